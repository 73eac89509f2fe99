"""``int``, ``float``, ``bool`` and ``str``: one transformer class, one instance per type.

Strictness: ``bool`` is not accepted as ``int`` or ``float`` (``True`` is almost always a
mistake there); an ``int`` is accepted as ``float`` and widened.
"""

from __future__ import annotations

from operator import attrgetter, methodcaller
from typing import Any, TypeAlias

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
_PRIMITIVE = attrgetter("scalar.primitive")
_WHICH = methodcaller("WhichOneof", "value")


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

    def extend_literals(self, literals: Any, values: list[object], ctx: TransferContext) -> None:
        """Append one literal per value to the repeated field ``literals``, each built in
        place (no literal built apart and copied in): what :meth:`to_literal` gives per
        value, in one pass over a list. A value that does not fit raises its error at its
        index."""
        py, field = self.python_type, self.field
        lo, hi = _INT64
        for i, value in enumerate(values):
            # The common case inline (exact type, in range); anything else via _coerce.
            if type(value) is py and (py is not int or lo <= value <= hi):  # type: ignore[operator]
                coerced: object = value
            else:
                coerced = _coerce(py, value)
                if coerced is None:
                    try:
                        self.to_literal(value, py, ctx)  # type: ignore[arg-type]
                    except TypeTransformerError as err:
                        raise err.at_index(i) from err
            setattr(literals.add().scalar.primitive, field, coerced)

    def fits(self, value: object) -> bool:
        """Whether ``value`` converts as it is (the exact type, an int within 64 bits): what
        :meth:`extend_literals` then stores unchanged."""
        if type(value) is not self.python_type:
            return False
        return self.python_type is not int or _INT64[0] <= value <= _INT64[1]  # type: ignore[operator]

    def values_of(self, literals: Any, ctx: TransferContext) -> list[object]:
        """:meth:`to_python` of each literal in the repeated field ``literals``, in one pass;
        a literal of another kind raises its error at its index."""
        field = self.field
        # The common case in C-level passes (a Python loop over upb messages is ~2x slower):
        # every literal holds this primitive, so each value is read as it is.
        prims = list(map(_PRIMITIVE, literals))
        if set(map(_WHICH, prims)) == {field}:
            return list(map(attrgetter(field), prims))
        out: list[object] = []
        append = out.append
        for i, literal in enumerate(literals):
            prim = literal.scalar.primitive
            if prim.WhichOneof("value") == field:
                append(getattr(prim, field))
                continue
            try:
                append(self.to_python(literal, self.python_type, ctx))
            except TypeTransformerError as err:
                raise err.at_index(i) from err
        return out

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.WhichOneof("type") == "simple" and literal_type.simple == self.simple

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return self.python_type
