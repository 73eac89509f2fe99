"""The fallback for types no transformer handles: ``pickle`` inside a ``Binary``.

Literal type: ``SIMPLE_TYPE_ANY`` (the contract reserves it for this fallback) with metadata
``{"python_class": "mod.Qual"}``; literal: ``Binary(value=pickle bytes, tag="pickle")``. The
engine warns (``UserWarning``) the first time it falls back for a type, because pickled values
are opaque to type checks and to other languages, tied to the class layout and Python version,
and unpickling runs code — only read pickles you wrote. Register a transformer instead.
"""

from __future__ import annotations

import pickle

from google.protobuf import struct_pb2

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, type_name
from skyloom.types.protos import literal_kind, scalar, scalar_kind
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2

PICKLE_TAG = "pickle"


class PickleTransformer(TypeTransformer[object]):
    """Anything picklable ↔ ``Binary(tag="pickle")``."""

    name = "pickle"

    def matches(self, python_type: TypeHint) -> bool:
        return True

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        meta = struct_pb2.Struct()
        meta.update({"python_class": type_name(python_type)})
        return types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_ANY, metadata=meta)

    def to_literal(
        self, value: object, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if isinstance(python_type, type) and not isinstance(value, python_type):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeTransformerError(
                f"a picklable {type_name(python_type)}", f"{type(value).__name__} ({exc})"
            ) from exc
        return scalar(binary=literals_pb2.Binary(value=data, tag=PICKLE_TAG))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> object:
        if scalar_kind(literal) != "binary" or literal.scalar.binary.tag != PICKLE_TAG:
            raise TypeTransformerError(
                f"a pickled {type_name(python_type)}", f"a {literal_kind(literal)} literal"
            )
        return pickle.loads(literal.scalar.binary.value)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.simple == types_pb2.SIMPLE_TYPE_ANY

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return object
