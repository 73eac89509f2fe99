"""``numpy.ndarray`` as ``Binary(tag="numpy")`` holding ``np.save`` bytes.

Arrays travel inline in the literal (and so in ``inputs.pb``/``outputs.pb``), which suits
small and medium arrays; for arrays of many megabytes, pass a ``File`` (e.g. ``.npy``) instead.
Object arrays are refused (``allow_pickle=False``), so loading never runs code. dtype, shape
and memory order round-trip. The literal type is ``SIMPLE_TYPE_BINARY`` with metadata
``{"python_class": "numpy.ndarray"}``. numpy is imported only when a value is converted.
"""

from __future__ import annotations

import io
import sys
from typing import get_origin

from google.protobuf import struct_pb2

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, type_name
from skyloom.types.protos import literal_kind, scalar, scalar_kind
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2

NUMPY_TAG = "numpy"
_CLASS = "numpy.ndarray"


def _ndarray() -> type | None:
    module = sys.modules.get("numpy")
    cls = getattr(module, "ndarray", None) if module is not None else None
    return cls if isinstance(cls, type) else None


class NumpyTransformer(TypeTransformer[object]):
    """``np.ndarray`` and ``npt.NDArray[...]`` ↔ ``Binary(tag="numpy")``."""

    name = "numpy"

    def matches(self, python_type: TypeHint) -> bool:
        cls = _ndarray()
        return cls is not None and (python_type is cls or get_origin(python_type) is cls)

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        meta = struct_pb2.Struct()
        meta.update({"python_class": _CLASS})
        return types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_BINARY, metadata=meta)

    def to_literal(
        self, value: object, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        import numpy as np

        if not isinstance(value, np.ndarray):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        buf = io.BytesIO()
        try:
            np.save(buf, value, allow_pickle=False)
        except ValueError as exc:
            raise TypeTransformerError(
                "an ndarray without Python objects", f"dtype {value.dtype}"
            ) from exc
        return scalar(binary=literals_pb2.Binary(value=buf.getvalue(), tag=NUMPY_TAG))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> object:
        import numpy as np

        if scalar_kind(literal) != "binary" or literal.scalar.binary.tag != NUMPY_TAG:
            raise TypeTransformerError(type_name(python_type), f"a {literal_kind(literal)} literal")
        return np.load(io.BytesIO(literal.scalar.binary.value), allow_pickle=False)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.simple == types_pb2.SIMPLE_TYPE_BINARY and (
            literal_type.metadata.fields.get("python_class") is not None
            and literal_type.metadata["python_class"] == _CLASS
        )

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        import numpy as np

        return np.ndarray
