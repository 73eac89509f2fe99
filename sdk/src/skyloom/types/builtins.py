"""The one place built-in transformers are registered, and the process-wide default engine."""

from __future__ import annotations

import functools
from typing import Any

from skyloom.types.arrow_tables import ArrowTransformer
from skyloom.types.binary import BytesTransformer
from skyloom.types.blobs import DirectoryTransformer, FileTransformer
from skyloom.types.dates import DateTransformer
from skyloom.types.datetimes import DatetimeTransformer
from skyloom.types.dicts import DictTransformer
from skyloom.types.durations import TimedeltaTransformer
from skyloom.types.engine import TypeEngine
from skyloom.types.enums import EnumTransformer
from skyloom.types.lists import ListTransformer
from skyloom.types.literal_strings import LiteralStringTransformer
from skyloom.types.numpy_arrays import NumpyTransformer
from skyloom.types.pandas_frames import PandasTransformer
from skyloom.types.pickle_fallback import PickleTransformer
from skyloom.types.primitives import PrimitiveTransformer
from skyloom.types.pydantic_models import PydanticTransformer
from skyloom.types.structs import DataclassTransformer
from skyloom.types.transformer import TypeTransformer
from skyloom.types.unions import UnionTransformer


def new_engine() -> TypeEngine:
    """A fresh engine with every built-in transformer and the pickle fallback.

    Built-ins match disjoint sets of types, so their order does not matter; transformers
    registered later are consulted first.
    """
    engine = TypeEngine(fallback=PickleTransformer())
    builtins: list[TypeTransformer[Any]] = [
        PrimitiveTransformer(int),
        PrimitiveTransformer(float),
        PrimitiveTransformer(bool),
        PrimitiveTransformer(str),
        BytesTransformer(),
        DatetimeTransformer(),
        DateTransformer(),
        TimedeltaTransformer(),
        EnumTransformer(),
        LiteralStringTransformer(),
        ListTransformer(engine),
        DictTransformer(engine),
        UnionTransformer(engine),
        DataclassTransformer(engine),
        PydanticTransformer(engine),
        FileTransformer(),
        DirectoryTransformer(),
        PandasTransformer(engine),
        ArrowTransformer(engine),
        NumpyTransformer(),
    ]
    for transformer in builtins:
        engine.register(transformer)
    return engine


@functools.cache
def default_engine() -> TypeEngine:
    """The process-wide engine the SDK uses, created with the built-ins on first call."""
    return new_engine()


def register(transformer: TypeTransformer[Any], *, override: bool = False) -> None:
    """Register ``transformer`` with :func:`default_engine` (it then wins over built-ins)."""
    default_engine().register(transformer, override=override)
