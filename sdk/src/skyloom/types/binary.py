"""``bytes`` as an untagged ``Binary`` literal (tagged binaries belong to other transformers)."""

from __future__ import annotations

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint
from skyloom.types.protos import literal_kind, scalar, scalar_kind, simple
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


class BytesTransformer(TypeTransformer[bytes]):
    """``bytes`` (and ``bytearray`` values) ↔ ``Binary(value, tag="")``."""

    name = "bytes"

    def matches(self, python_type: TypeHint) -> bool:
        return python_type is bytes

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return simple(types_pb2.SIMPLE_TYPE_BINARY)

    def to_literal(
        self, value: bytes, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeTransformerError.for_value("bytes", value)
        return scalar(binary=literals_pb2.Binary(value=bytes(value)))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> bytes:
        if scalar_kind(literal) != "binary" or literal.scalar.binary.tag:
            tag = literal.scalar.binary.tag if scalar_kind(literal) == "binary" else ""
            got = f"a binary tagged {tag!r}" if tag else f"a {literal_kind(literal)} literal"
            raise TypeTransformerError("bytes", got)
        return literal.scalar.binary.value

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return (
            literal_type.WhichOneof("type") == "simple"
            and literal_type.simple == types_pb2.SIMPLE_TYPE_BINARY
            and not literal_type.metadata.fields
        )

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return bytes
