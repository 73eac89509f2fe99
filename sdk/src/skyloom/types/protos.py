"""Small constructors and readers for the protobuf messages transformers build."""

from __future__ import annotations

from skyloom_idl.core import literals_pb2, types_pb2


def scalar(**fields: object) -> literals_pb2.Literal:
    """``Literal(scalar=Scalar(**fields))``."""
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(**fields))  # type: ignore[arg-type]


def simple(kind: types_pb2.SimpleType.ValueType) -> types_pb2.LiteralType:
    """``LiteralType(simple=kind)``."""
    return types_pb2.LiteralType(simple=kind)


def literal_kind(literal: literals_pb2.Literal) -> str:
    """What a literal holds, for error messages: ``primitive``, ``blob``, ``collection``..."""
    which = literal.WhichOneof("value")
    if which == "scalar":
        inner = literal.scalar.WhichOneof("value")
        if inner == "primitive":
            return str(literal.scalar.primitive.WhichOneof("value"))
        return str(inner)
    return str(which)


def scalar_kind(literal: literals_pb2.Literal) -> str | None:
    """The set field of ``literal.scalar``, or None when the literal is not a scalar."""
    if literal.WhichOneof("value") != "scalar":
        return None
    return literal.scalar.WhichOneof("value")
