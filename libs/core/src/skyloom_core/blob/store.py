"""The blob-store contract every scheme implements.

Keys are relative to the store's base URI and validated (:mod:`skyloom_core.blob.keys`) before
any I/O; failures are :class:`~skyloom_core.blob.errors.BlobError` subclasses. Contracts shared by
all implementations:

- ``put_bytes``/``put_file``/``copy`` are atomic: a reader sees the old object or the complete
  new one, never a partial write (file://: temp file in the same directory, fsync, rename;
  s3://: a single PutObject or a completed multipart upload). Last writer wins.
- ``put_if_absent`` never overwrites: it succeeds if the key is absent or already holds the same
  bytes, and raises ``AlreadyExists`` if it holds different bytes.
- ``delete`` is idempotent: deleting a missing key is not an error.
- ``list_prefix`` yields objects whose key starts with the prefix (a plain string prefix, as in
  S3). Order is backend-defined: file:// and AWS S3 yield UTF-8 byte order of the key, SeaweedFS
  yields directory order (``p/a`` before ``p-b``); sort if you need one.
- ``get_file``/``get_dir`` write local files atomically too, and only inside the destination.
- Object stores have no directories: ``put_dir`` uploads regular files (symbolic links are
  refused), and ``get_dir`` of a prefix with no objects creates an empty directory.
- Stores hold connections: use ``async with`` or call ``aclose()`` (idempotent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from skyloom_core.blob.signing import SignedURL

__all__ = ["BlobInfo", "BlobStore"]


@dataclass(frozen=True)
class BlobInfo:
    """One object: its key, size in bytes and ``etag``.

    ``etag`` is opaque and changes whenever the content changes. On s3:// it is the server's
    ETag without quotes (the MD5 hex for a single-part upload, ``<hash>-<parts>`` after a
    multipart one); on file:// it is derived from the file's inode, size and mtime.
    """

    key: str
    size: int
    etag: str


class BlobStore(Protocol):
    """An object store rooted at ``base_uri``; see the module docstring for shared contracts."""

    @property
    def base_uri(self) -> str:
        """The URI every key is relative to, without a trailing ``/``."""
        ...

    def uri(self, key: str) -> str:
        """The full URI of ``key`` (``<base_uri>/<key>``)."""
        ...

    def key_of(self, uri: str) -> str:
        """The key of a full URI under this store; ``InvalidKey`` if it is elsewhere."""
        ...

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        """Store ``data`` under ``key`` atomically, replacing any previous object."""
        ...

    async def put_if_absent(self, key: str, data: bytes) -> BlobInfo:
        """Store ``data`` unless ``key`` exists; identical content is success, different
        content raises ``AlreadyExists`` and leaves the object untouched."""
        ...

    async def get_bytes(self, key: str) -> bytes:
        """The whole object; ``NotFound`` if absent."""
        ...

    async def head(self, key: str) -> BlobInfo:
        """Size and etag without the content; ``NotFound`` if absent."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def list_prefix(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        """Objects whose key starts with ``prefix`` (order: see the module docstring)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; no error if it is already gone."""
        ...

    async def copy(self, src_key: str, dst_key: str) -> BlobInfo:
        """Copy an object inside this store; ``NotFound`` if the source is absent."""
        ...

    async def put_file(self, key: str, path: Path) -> BlobInfo:
        """Upload a local file, streamed (memory bounded by the part size, not the file)."""
        ...

    async def get_file(self, key: str, path: Path) -> BlobInfo:
        """Download to ``path`` (parents created), atomically; ``NotFound`` if absent."""
        ...

    async def put_dir(self, prefix: str, path: Path) -> list[BlobInfo]:
        """Upload every regular file under ``path`` to ``<prefix>/<relative path>``."""
        ...

    async def get_dir(self, prefix: str, path: Path) -> list[Path]:
        """Download every object under ``<prefix>/`` into ``path``; returns the files written."""
        ...

    async def signed_get_url(self, key: str, *, expires_in: int = 3600) -> SignedURL:
        """A URL that lets anyone holding it GET the object for ``expires_in`` seconds."""
        ...

    async def signed_put_url(
        self, key: str, *, content_md5: str, expires_in: int = 3600
    ) -> SignedURL:
        """A URL that lets anyone holding it PUT exactly the bytes whose base64 MD5 is
        ``content_md5`` (send ``SignedURL.headers``) for ``expires_in`` seconds."""
        ...

    async def aclose(self) -> None:
        """Release connections. Idempotent."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
