"""``File`` and ``Directory`` (from :mod:`skyloom.files`) as ``Blob`` literals.

Serializing a value with a local path uploads it through ``ctx.store`` and sets
``Literal.hash`` to the content's SHA-256 (a directory's hash covers relative paths and file
contents). A value that is already remote (read from an input, or built from a URI) is passed
by URI without a transfer, keeping the hash it came with. Decoding never transfers: the value
downloads on first access to ``.path``. A ``str`` or ``os.PathLike`` value is accepted as a
local path. The declared format (``File["csv"]``) wins over the value's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Generic, TypeVar

from skyloom.files import Directory, File, _Blob
from skyloom.types.content_hash import dir_sha256, file_sha256
from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError, short_repr
from skyloom.types.hints import TypeHint, type_name
from skyloom.types.protos import literal_kind, scalar, scalar_kind
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2

B = TypeVar("B", bound=_Blob)
_SINGLE = types_pb2.BlobType.DIMENSIONALITY_SINGLE
_MULTI = types_pb2.BlobType.DIMENSIONALITY_MULTIPART


class _BlobTransformer(TypeTransformer[B], Generic[B]):
    base: type[B]
    dimensionality: types_pb2.BlobType.Dimensionality.ValueType

    def matches(self, python_type: TypeHint) -> bool:
        return isinstance(python_type, type) and issubclass(python_type, self.base)

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        fmt = getattr(python_type, "format", "")
        return types_pb2.LiteralType(
            blob=types_pb2.BlobType(format=fmt, dimensionality=self.dimensionality)
        )

    def _is_local_ok(self, path: Path) -> bool:
        raise NotImplementedError

    def _upload(self, path: Path, ctx: TransferContext) -> tuple[str, str]:
        raise NotImplementedError

    def to_literal(
        self, value: B, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        raw: object = value
        if isinstance(raw, (str, os.PathLike)) and not isinstance(raw, _Blob):
            raw = self.base(raw)
        if not isinstance(raw, self.base):
            raise TypeTransformerError.for_value(type_name(python_type), raw)
        blob: _Blob = raw
        if blob.uri is not None:
            uri, digest = blob.uri, blob.content_hash
        else:
            local = blob.local_path
            assert local is not None
            if not self._is_local_ok(local):
                kind = "file" if self.base is File else "directory"
                raise TypeTransformerError(
                    f"an existing {kind} for {type_name(python_type)}", short_repr(str(local))
                )
            uri, digest = self._upload(local, ctx)
        fmt = getattr(python_type, "format", "") or blob.format
        btype = types_pb2.BlobType(format=fmt, dimensionality=self.dimensionality)
        lit = scalar(
            blob=literals_pb2.Blob(uri=uri, metadata=literals_pb2.BlobMetadata(type=btype))
        )
        lit.hash = digest
        return lit

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> B:
        if scalar_kind(literal) != "blob":
            raise TypeTransformerError(type_name(python_type), f"a {literal_kind(literal)} literal")
        blob = literal.scalar.blob
        if blob.metadata.type.dimensionality == (_SINGLE if self.base is Directory else _MULTI):
            raise TypeTransformerError(type_name(python_type), "a blob of the other dimensionality")
        cls = (
            python_type
            if isinstance(python_type, type) and issubclass(python_type, self.base)
            else self.base
        )
        fetch = ctx.store.download_file if self.base is File else ctx.store.download_dir
        return cls.from_uri(blob.uri, fetch=fetch, content_hash=literal.hash)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.WhichOneof("type") == "blob" and (
            literal_type.blob.dimensionality == self.dimensionality
        )

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        fmt = literal_type.blob.format
        return self.base.with_format(fmt) if fmt else self.base


class FileTransformer(_BlobTransformer[File]):
    """``File`` ↔ single-part ``Blob``."""

    name = "file"
    base = File
    dimensionality = _SINGLE

    def _is_local_ok(self, path: Path) -> bool:
        return path.is_file()

    def _upload(self, path: Path, ctx: TransferContext) -> tuple[str, str]:
        return ctx.store.upload_file(path), file_sha256(path)


class DirectoryTransformer(_BlobTransformer[Directory]):
    """``Directory`` ↔ multipart ``Blob``."""

    name = "directory"
    base = Directory
    dimensionality = _MULTI

    def _is_local_ok(self, path: Path) -> bool:
        return path.is_dir()

    def _upload(self, path: Path, ctx: TransferContext) -> tuple[str, str]:
        return ctx.store.upload_dir(path), dir_sha256(path)
