"""``pandas.DataFrame`` as a Parquet ``StructuredDataset`` (see :mod:`skyloom.types.structured`).

pandas is imported only when a value is converted; matching looks in ``sys.modules`` (a hint
can only be ``pd.DataFrame`` if pandas is imported). The index is kept as pandas' Parquet
metadata does (a ``RangeIndex`` as metadata, others as columns).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, strip_annotated, type_name
from skyloom.types.structured import (
    check_columns,
    dataset_type,
    declared_columns,
    download_parquet,
    is_table_literal_type,
    upload_parquet,
)
from skyloom.types.transformer import Converter, TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2

if TYPE_CHECKING:
    import pandas as pd


def _frame_class() -> type | None:
    module = sys.modules.get("pandas")
    cls = getattr(module, "DataFrame", None) if module is not None else None
    return cls if isinstance(cls, type) else None


class PandasTransformer(TypeTransformer["pd.DataFrame"]):
    """``pd.DataFrame`` (optionally ``Annotated`` with columns) ↔ Parquet dataset."""

    name = "pandas"

    def __init__(self, engine: Converter) -> None:
        self._engine = engine

    def matches(self, python_type: TypeHint) -> bool:
        cls = _frame_class()
        return cls is not None and strip_annotated(python_type)[0] is cls

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(
            structured_dataset_type=dataset_type(self._engine, python_type)
        )

    def to_literal(
        self, value: pd.DataFrame, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        import pandas as pd

        if not isinstance(value, pd.DataFrame):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        wanted = list(declared_columns(python_type))
        if wanted:
            check_columns(type_name(python_type), [str(c) for c in value.columns], wanted)
            value = value[wanted]
        path = ctx.store.new_local_path("data.parquet")
        value.to_parquet(path)
        return upload_parquet(self._engine, path, python_type, ctx)

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> pd.DataFrame:
        import pandas as pd

        path = download_parquet(literal, type_name(python_type), ctx)
        wanted = list(declared_columns(python_type))
        return pd.read_parquet(path, columns=wanted or None)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return is_table_literal_type(literal_type) and _frame_class() is not None

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return _frame_class()
