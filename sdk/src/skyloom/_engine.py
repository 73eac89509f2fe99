"""The seam to the type engine (``skyloom.types``).

Everything in the SDK converts values through :func:`engine`, so the local executor, the task
entrypoint and the compiler see the same literals. Until ``skyloom.types`` is present, a small
fallback handles the primitive types, lists, dicts, Optional and dataclasses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Protocol

from google.protobuf import json_format, struct_pb2

from skyloom_idl.core import literals_pb2, types_pb2


class Engine(Protocol):
    """What the SDK needs from a type engine."""

    def literal_type(self, py_type: Any) -> types_pb2.LiteralType: ...

    def to_literal(self, value: Any, py_type: Any, ctx: Any) -> literals_pb2.Literal: ...

    def to_python(self, literal: literals_pb2.Literal, py_type: Any, ctx: Any) -> Any: ...


@functools.cache
def engine() -> Engine:
    """The process's type engine: ``skyloom.types.default_engine()``, or the fallback."""
    try:
        mod = importlib.import_module("skyloom.types")
    except ImportError:
        return FallbackEngine()
    factory = getattr(mod, "default_engine", None)
    if factory is None:
        return FallbackEngine()
    result: Engine = factory()
    return result


@functools.lru_cache(maxsize=64)
def transfer_context(raw_dir: Path) -> Any:
    """A TransferContext whose local raw-data store keeps files under ``raw_dir``.

    Cached: the store is stateless beyond its root, and building one costs a mkdir."""
    try:
        ctx_mod = importlib.import_module("skyloom.types.context")
        store_mod = importlib.import_module("skyloom.types.local_store")
    except ImportError:
        return None
    return ctx_mod.TransferContext(store=store_mod.LocalRawDataStore(raw_dir))


_SIMPLE = {
    int: types_pb2.SIMPLE_TYPE_INTEGER,
    float: types_pb2.SIMPLE_TYPE_FLOAT,
    str: types_pb2.SIMPLE_TYPE_STRING,
    bool: types_pb2.SIMPLE_TYPE_BOOLEAN,
    type(None): types_pb2.SIMPLE_TYPE_NONE,
    dt.datetime: types_pb2.SIMPLE_TYPE_DATETIME,
    dt.timedelta: types_pb2.SIMPLE_TYPE_DURATION,
}


class FallbackEngine:
    """Primitives, list, dict, Optional and dataclasses (as JSON structs)."""

    def literal_type(self, py_type: Any) -> types_pb2.LiteralType:
        if py_type in _SIMPLE:
            return types_pb2.LiteralType(simple=_SIMPLE[py_type])
        origin, args = typing.get_origin(py_type), typing.get_args(py_type)
        if origin is list:
            return types_pb2.LiteralType(collection_type=self.literal_type(args[0]))
        if origin is dict:
            return types_pb2.LiteralType(map_value_type=self.literal_type(args[1]))
        if origin in (typing.Union, types.UnionType):
            return types_pb2.LiteralType(
                union_type=types_pb2.UnionType(variants=[self.literal_type(a) for a in args])
            )
        if dataclasses.is_dataclass(py_type):
            meta = struct_pb2.Struct()
            meta.update(
                {"python_class": f"{py_type.__module__}.{getattr(py_type, '__qualname__', '')}"}
            )
            return types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_STRUCT, metadata=meta)
        raise TypeError(f"type {py_type!r} is not supported by the fallback type engine")

    def to_literal(self, value: Any, py_type: Any, ctx: Any) -> literals_pb2.Literal:
        origin, args = typing.get_origin(py_type), typing.get_args(py_type)
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return _scalar(literals_pb2.Scalar(none_type=literals_pb2.Void()))
            inner = next(a for a in args if a is not type(None))
            return self.to_literal(value, inner, ctx)
        if origin is list:
            return literals_pb2.Literal(
                collection=literals_pb2.LiteralCollection(
                    literals=[self.to_literal(v, args[0], ctx) for v in value]
                )
            )
        if origin is dict:
            return literals_pb2.Literal(
                map=literals_pb2.LiteralMap(
                    literals={k: self.to_literal(v, args[1], ctx) for k, v in value.items()}
                )
            )
        if dataclasses.is_dataclass(py_type):
            st = struct_pb2.Struct()
            st.update(json.loads(json.dumps(dataclasses.asdict(value))))
            return _scalar(literals_pb2.Scalar(generic=st))
        return _scalar(literals_pb2.Scalar(primitive=_primitive(value, py_type)))

    def to_python(self, literal: literals_pb2.Literal, py_type: Any, ctx: Any) -> Any:
        origin, args = typing.get_origin(py_type), typing.get_args(py_type)
        if origin in (typing.Union, types.UnionType):
            if literal.scalar.HasField("none_type"):
                return None
            inner = next(a for a in args if a is not type(None))
            return self.to_python(literal, inner, ctx)
        if origin is list:
            return [self.to_python(v, args[0], ctx) for v in literal.collection.literals]
        if origin is dict:
            return {k: self.to_python(v, args[1], ctx) for k, v in literal.map.literals.items()}
        if dataclasses.is_dataclass(py_type) and isinstance(py_type, type):
            raw = json_format.MessageToDict(literal.scalar.generic)
            hints = typing.get_type_hints(py_type)
            return py_type(**{k: _coerce(v, hints.get(k)) for k, v in raw.items()})
        if py_type is type(None):
            return None
        prim = literal.scalar.primitive
        kind = prim.WhichOneof("value")
        if kind == "datetime":
            return prim.datetime.ToDatetime(tzinfo=dt.UTC)
        if kind == "duration":
            return prim.duration.ToTimedelta()
        if kind is None:
            raise TypeError(f"cannot read {py_type!r} from literal {literal}")
        return getattr(prim, kind)


def _scalar(scalar: literals_pb2.Scalar) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=scalar)


def _primitive(value: Any, py_type: Any) -> literals_pb2.Primitive:
    if py_type is bool and isinstance(value, bool):
        return literals_pb2.Primitive(boolean=value)
    if py_type is int and isinstance(value, int) and not isinstance(value, bool):
        return literals_pb2.Primitive(integer=value)
    if py_type is float and isinstance(value, int | float) and not isinstance(value, bool):
        return literals_pb2.Primitive(float_value=float(value))
    if py_type is str and isinstance(value, str):
        return literals_pb2.Primitive(string_value=value)
    if py_type is dt.datetime and isinstance(value, dt.datetime):
        p = literals_pb2.Primitive()
        p.datetime.FromDatetime(value)
        return p
    if py_type is dt.timedelta and isinstance(value, dt.timedelta):
        p = literals_pb2.Primitive()
        p.duration.FromTimedelta(value)
        return p
    raise TypeError(f"expected {getattr(py_type, '__name__', py_type)}, got {value!r}")


def _coerce(value: Any, t: Any) -> Any:
    """JSON numbers come back as floats; give int fields their ints back."""
    if t is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if typing.get_origin(t) is list and isinstance(value, list):
        return [_coerce(v, typing.get_args(t)[0]) for v in value]
    return value
