"""``int``, ``float``, ``bool`` and ``str``: one transformer class, one instance per type.

Strictness: ``bool`` is not accepted as ``int`` or ``float`` (``True`` is almost always a
mistake there); an ``int`` is accepted as ``float`` and widened.
"""

from __future__ import annotations

from typing import TypeAlias

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint
from skyloom.types.protos import literal_kind
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2

Prim: TypeAlias = int | float | bool | str

_FIELDS: dict[type, tuple[str, types_pb2.SimpleType.ValueType]] = {
    int: ("integer", types_pb2.SIMPLE_TYPE_INTEGER),
    float: ("float_value", types_pb2.SIMPLE_TYPE_FLOAT),
    bool: ("boolean", types_pb2.SIMPLE_TYPE_BOOLEAN),
    str: ("string_value", types_pb2.SIMPLE_TYPE_STRING),
}
_INT64 = (-(2**63), 2**63 - 1)


def _coerce(py: type, value: object) -> int | float | bool | str | None:
    """``value`` as ``py``, or None when it does not fit."""
    if py is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if py is int:
        return value if isinstance(value, int) and _INT64[0] <= value <= _INT64[1] else None
    if py is float:
        return float(value) if isinstance(value, (int, float)) else None
    return value if isinstance(value, str) else None


class PrimitiveTransformer(TypeTransformer[Prim]):
    """Maps one of ``int``/``float``/``bool``/``str`` to a ``Primitive`` literal."""

    def __init__(self, python_type: type[Prim]) -> None:
        self.python_type = python_type
        self.field, self.simple = _FIELDS[python_type]
        self.name = python_type.__name__

    def matches(self, python_type: TypeHint) -> bool:
        return python_type is self.python_type

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(simple=self.simple)

    def to_literal(
        self, value: Prim, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        coerced = _coerce(self.python_type, value)
        if coerced is None:
            expected = self.name
            if self.python_type is int and isinstance(value, int) and not isinstance(value, bool):
                expected = "int within 64 bits"
            raise TypeTransformerError.for_value(expected, value)
        # Set in place: building Primitive, Scalar and Literal apart copies each into the
        # next, ~3x slower, and every task input and output goes through here.
        out = literals_pb2.Literal()
        setattr(out.scalar.primitive, self.field, coerced)
        return out

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> Prim:
        prim = literal.scalar.primitive
        which = prim.WhichOneof("value") if literal.scalar.HasField("primitive") else None
        if which == self.field:
            found: Prim = getattr(prim, self.field)
            return found
        if self.python_type is float and which == "integer":
            return float(prim.integer)
        raise TypeTransformerError(self.name, f"a {which or literal_kind(literal)} literal")

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.WhichOneof("type") == "simple" and literal_type.simple == self.simple

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return self.python_type
