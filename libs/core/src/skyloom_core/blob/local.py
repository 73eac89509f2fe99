"""The ``file://`` store: objects are files under a root directory. Pure Python, no extras.

Key ``a/b/c`` is the file ``<root>/a/b/c``. Writes are atomic and durable (see
:mod:`skyloom_core.blob._fsio`); blocking calls run in a worker thread so the event loop is never
blocked. Because a file system cannot hold both ``a`` and ``a/b``, writing one while the other
exists raises :class:`InvalidKey` (S3 allows it; keep layouts that do not rely on it).

Paths are confined to the root: keys are validated, and a path that resolves outside the root
through a symbolic link planted inside it is refused. Signed URLs point at the sandbox's data
proxy and are verified with :func:`skyloom_core.blob.signing.verify`.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from skyloom_core.blob import _fsio
from skyloom_core.blob._dirs import download_dir, upload_dir
from skyloom_core.blob.errors import (
    AccessDenied,
    AlreadyExists,
    BlobError,
    ConfigurationError,
    InvalidKey,
    NotFound,
    Unavailable,
)
from skyloom_core.blob.keys import RESERVED_PREFIX, validate_key, validate_prefix
from skyloom_core.blob.settings import FileSettings
from skyloom_core.blob.signing import SignedURL, check_expires_in, sign_url
from skyloom_core.blob.store import BlobInfo
from skyloom_core.blob.uri import parse_uri

__all__ = ["FileStore"]

_T = TypeVar("_T")


class FileStore:
    """A :class:`~skyloom_core.blob.store.BlobStore` over a local directory (``file:///dir``).

    The directory need not exist: reads then find nothing and the first write creates it.
    """

    def __init__(self, base_uri: str, settings: FileSettings | None = None) -> None:
        parsed = parse_uri(base_uri, "base_uri")
        if parsed.scheme != "file":
            raise ConfigurationError(f"FileStore needs a file:// URI, not {base_uri!r}")
        self._base_uri = str(parsed)
        self.root = Path(parsed.path)
        self.settings = settings or FileSettings()

    @property
    def base_uri(self) -> str:
        return self._base_uri

    def uri(self, key: str) -> str:
        return f"{self._base_uri}/{validate_key(key)}"

    def key_of(self, uri: str) -> str:
        if not uri.startswith(self._base_uri + "/"):
            raise InvalidKey("uri", f"is not under {self._base_uri}", value=uri[:200])
        return validate_key(uri[len(self._base_uri) + 1 :], "uri")

    # -- objects ---------------------------------------------------------------------------

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        return await self._run(key, self._write, key, (data,), True)

    async def put_if_absent(self, key: str, data: bytes) -> BlobInfo:
        return await self._run(key, self._put_if_absent, key, data)

    async def get_bytes(self, key: str) -> bytes:
        return await self._run(key, self._read, key)

    async def head(self, key: str) -> BlobInfo:
        return await self._run(key, self._head, key)

    async def exists(self, key: str) -> bool:
        try:
            await self.head(key)
        except NotFound:
            return False
        return True

    async def list_prefix(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        validate_prefix(prefix)
        for info in await self._run(prefix, self._list, prefix):
            yield info

    async def delete(self, key: str) -> None:
        await self._run(key, self._delete, key)

    async def copy(self, src_key: str, dst_key: str) -> BlobInfo:
        return await self._run(dst_key, self._copy, src_key, dst_key)

    # -- local files and directories -------------------------------------------------------

    async def put_file(self, key: str, path: Path) -> BlobInfo:
        return await self._run(key, self._put_file, key, path)

    async def get_file(self, key: str, path: Path) -> BlobInfo:
        return await self._run(key, self._download, key, path)

    async def put_dir(self, prefix: str, path: Path) -> list[BlobInfo]:
        return await upload_dir(self, prefix, path)

    async def get_dir(self, prefix: str, path: Path) -> list[Path]:
        return await download_dir(self, prefix, path)

    # -- signed URLs -----------------------------------------------------------------------

    async def signed_get_url(self, key: str, *, expires_in: int = 3600) -> SignedURL:
        return self._sign("GET", key, expires_in, None)

    async def signed_put_url(
        self, key: str, *, content_md5: str, expires_in: int = 3600
    ) -> SignedURL:
        return self._sign("PUT", key, expires_in, content_md5)

    def _sign(self, method: str, key: str, expires_in: int, md5: str | None) -> SignedURL:
        secret, base_url = self.settings.signing_secret, self.settings.signed_url_base
        if secret is None or base_url is None:
            raise ConfigurationError(
                "file:// signed URLs need FileSettings.signing_secret and signed_url_base"
            )
        expires = int(time.time()) + check_expires_in(expires_in)
        url = sign_url(
            base_url, secret, method=method, key=validate_key(key), expires=expires, content_md5=md5
        )
        headers = {"Content-MD5": md5} if md5 else {}
        return SignedURL(url, method, datetime.fromtimestamp(expires, UTC), headers)

    # -- lifecycle -------------------------------------------------------------------------

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- blocking helpers (run in a worker thread) -----------------------------------------

    async def _run(self, key: str, fn: Callable[..., _T], *args: object) -> _T:
        try:
            return await asyncio.to_thread(fn, *args)
        except BlobError:
            raise
        except OSError as exc:
            raise _map_os_error(exc, key, self._base_uri) from exc

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*validate_key(key).split("/"))
        # Keys cannot contain '..'; a symbolic link planted under the root still must not
        # lead out of it (a data proxy serves whatever this returns).
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise InvalidKey("key", "resolves outside the store root", value=key)
        return path

    def _info(self, key: str, st: os.stat_result) -> BlobInfo:
        etag = f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"
        return BlobInfo(key=key, size=st.st_size, etag=etag)

    def _head(self, key: str) -> BlobInfo:
        try:
            st = os.stat(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no object {key!r}", uri=self.uri(key)) from None
        if not stat.S_ISREG(st.st_mode):
            raise NotFound(f"no object {key!r}", uri=self.uri(key))
        return self._info(key, st)

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"no object {key!r}", uri=self.uri(key)) from None

    def _write(self, key: str, chunks: Iterable[bytes], overwrite: bool) -> BlobInfo:
        target = self._path(key)
        out = _fsio.AtomicFile(target, fsync=self.settings.fsync)
        try:
            out.open()
            for chunk in chunks:
                out.write(chunk)
        except BaseException:
            out.abort()
            raise
        if not out.commit(overwrite=overwrite):
            raise AlreadyExists(f"{key!r} exists", uri=self.uri(key))
        return self._info(key, os.stat(target))

    def _copy(self, src_key: str, dst_key: str) -> BlobInfo:
        self._head(src_key)  # NotFound names the source, not the destination
        return self._write(dst_key, _fsio.read_chunks(self._path(src_key)), True)

    def _put_file(self, key: str, path: Path) -> BlobInfo:
        # Not only regular files: a pipe (or /dev/stdin) streams just as well.
        if not path.exists() or path.is_dir():
            raise NotFound(f"local file {str(path)!r} does not exist or is a directory")
        return self._write(key, _fsio.read_chunks(path), True)

    def _put_if_absent(self, key: str, data: bytes) -> BlobInfo:
        try:
            return self._write(key, (data,), False)
        except AlreadyExists:
            if self._read(key) != data:
                raise AlreadyExists(
                    f"{key!r} exists with different content", uri=self.uri(key)
                ) from None
            return self._head(key)

    def _download(self, key: str, dest: Path) -> BlobInfo:
        info = self._head(key)
        out = _fsio.AtomicFile(dest, fsync=self.settings.fsync)
        try:
            out.open()
            with open(self._path(key), "rb") as src:
                while chunk := src.read(_fsio.CHUNK):
                    out.write(chunk)
        except FileNotFoundError:
            out.abort()
            raise NotFound(f"no object {key!r}", uri=self.uri(key)) from None
        except BaseException:
            out.abort()
            raise
        out.commit()
        return info

    def _delete(self, key: str) -> None:
        path = self._path(key)
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return

    def _list(self, prefix: str) -> list[BlobInfo]:
        # Walk only the deepest directory the prefix names, then filter by string prefix.
        parent = prefix.rpartition("/")[0]
        start = self._path(parent) if parent else self.root
        found: list[BlobInfo] = []
        for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
            dirnames[:] = [d for d in dirnames if not d.startswith(RESERVED_PREFIX)]
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(RESERVED_PREFIX):
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if not key.startswith(prefix):
                    continue
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue  # deleted while listing
                if stat.S_ISREG(st.st_mode):
                    found.append(self._info(validate_key(key), st))
        found.sort(key=lambda info: info.key.encode())
        return found


def _map_os_error(exc: OSError, key: str, base_uri: str) -> BlobError:
    uri = f"{base_uri}/{key}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return AccessDenied(f"{exc.strerror}: {key!r}", uri=uri)
    if exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
        return InvalidKey(
            "key", "conflicts with an existing object or prefix on a file system", value=key
        )
    if isinstance(exc, FileNotFoundError):
        return NotFound(f"no object {key!r}", uri=uri)
    return Unavailable(f"{exc.strerror or exc}: {key!r}", uri=uri)
