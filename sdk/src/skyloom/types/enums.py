"""``enum.Enum`` subclasses as an ``EnumType`` of the members' values (as strings).

Values are compared as ``str(member.value)``, so ``str`` enums are the natural fit; int-valued
enums work as long as the string forms are distinct. A raw value equal to a member's value is
accepted in place of the member.
"""

from __future__ import annotations

import enum

from google.protobuf import struct_pb2

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, qualified_name
from skyloom.types.protos import literal_kind, scalar
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


def _members(python_type: TypeHint) -> dict[str, enum.Enum]:
    assert isinstance(python_type, type)
    assert issubclass(python_type, enum.Enum)
    return {str(m.value): m for m in python_type}


class EnumTransformer(TypeTransformer[enum.Enum]):
    """``Enum`` ↔ ``Scalar.enum_value``."""

    name = "enum"

    def matches(self, python_type: TypeHint) -> bool:
        return isinstance(python_type, type) and issubclass(python_type, enum.Enum)

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        assert isinstance(python_type, type)
        meta = struct_pb2.Struct()
        meta.update({"python_class": qualified_name(python_type)})
        return types_pb2.LiteralType(
            enum_type=types_pb2.EnumType(values=list(_members(python_type))), metadata=meta
        )

    def _expected(self, python_type: TypeHint) -> str:
        name = getattr(python_type, "__name__", "enum")
        return f"{name} (one of {', '.join(map(repr, _members(python_type)))})"

    def to_literal(
        self, value: enum.Enum, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        members = _members(python_type)
        raw: object = value  # authors may pass the member's raw value
        if isinstance(raw, enum.Enum):
            key = str(raw.value)
            if members.get(key) is raw:
                return scalar(enum_value=key)
        elif isinstance(raw, (str, int)) and not isinstance(raw, bool) and str(raw) in members:
            return scalar(enum_value=str(raw))
        raise TypeTransformerError.for_value(self._expected(python_type), value)

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> enum.Enum:
        kind = literal_kind(literal)
        if kind == "enum_value":
            key = literal.scalar.enum_value
        elif kind == "string_value":
            key = literal.scalar.primitive.string_value
        else:
            raise TypeTransformerError(self._expected(python_type), f"a {kind} literal")
        members = _members(python_type)
        if key not in members:
            raise TypeTransformerError(self._expected(python_type), repr(key))
        return members[key]

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.WhichOneof("type") == "enum_type"

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        values = list(literal_type.enum_type.values)
        return enum.Enum("GuessedEnum", [(v, v) for v in values])
