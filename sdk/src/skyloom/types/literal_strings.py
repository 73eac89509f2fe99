"""``typing.Literal["a", "b"]`` (string choices) as an ``EnumType``; values stay plain ``str``."""

from __future__ import annotations

import typing

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint
from skyloom.types.protos import literal_kind, scalar
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


def _choices(python_type: TypeHint) -> tuple[str, ...]:
    return tuple(str(a) for a in typing.get_args(python_type))


def _expected(python_type: TypeHint) -> str:
    return "one of " + ", ".join(map(repr, _choices(python_type)))


class LiteralStringTransformer(TypeTransformer[str]):
    """``Literal["a", "b"]`` ↔ ``Scalar.enum_value``. Only all-string ``Literal``s match."""

    name = "literal-str"

    def matches(self, python_type: TypeHint) -> bool:
        args = typing.get_args(python_type)
        return (
            typing.get_origin(python_type) is typing.Literal
            and bool(args)
            and all(isinstance(a, str) for a in args)
        )

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=_choices(python_type)))

    def to_literal(
        self, value: str, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, str) or value not in _choices(python_type):
            raise TypeTransformerError.for_value(_expected(python_type), value)
        return scalar(enum_value=value)

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> str:
        kind = literal_kind(literal)
        value = (
            literal.scalar.enum_value
            if kind == "enum_value"
            else literal.scalar.primitive.string_value
            if kind == "string_value"
            else None
        )
        if value is None or value not in _choices(python_type):
            got = repr(value) if value is not None else f"a {kind} literal"
            raise TypeTransformerError(_expected(python_type), got)
        return value
