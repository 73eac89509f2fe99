"""The ``s3://`` store on aioboto3 (the optional extra ``skyloom-core[s3]``).

aioboto3 is imported when an :class:`S3Store` is constructed, never at module import, so the
SDK and ``file://`` users do not need it. One client (one connection pool) per store, opened on
first use; close it with ``aclose()`` or ``async with``.

Integrity: every PutObject and UploadPart carries ``Content-MD5``, so the server refuses a body
corrupted in transit (``BadDigest``). ``put_if_absent`` uses a conditional write
(``If-None-Match: *``), which AWS S3 and SeaweedFS enforce atomically; on a server that ignores
the header it degrades to last-writer-wins. Presigned PUT URLs sign the ``Content-MD5`` header:
an upload must send it, and the server rejects a body that does not match it.

``copy`` is a server-side CopyObject (objects up to 5 GiB).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from skyloom_core.blob import _fsio
from skyloom_core.blob._dirs import download_dir, upload_dir
from skyloom_core.blob._s3_errors import error_code, http_status, mapped_errors
from skyloom_core.blob.errors import (
    AlreadyExists,
    ConfigurationError,
    InvalidKey,
    NotFound,
    Unavailable,
)
from skyloom_core.blob.keys import validate_key, validate_prefix
from skyloom_core.blob.settings import MAX_PARTS, S3Settings
from skyloom_core.blob.signing import SignedURL, check_expires_in
from skyloom_core.blob.store import BlobInfo
from skyloom_core.blob.uri import parse_uri

__all__ = ["S3Store"]


class S3Store:
    """A :class:`~skyloom_core.blob.store.BlobStore` over ``s3://bucket[/prefix]``."""

    def __init__(self, base_uri: str, settings: S3Settings | None = None) -> None:
        parsed = parse_uri(base_uri, "base_uri")
        if parsed.scheme != "s3":
            raise ConfigurationError(f"S3Store needs an s3:// URI, not {base_uri!r}")
        self._aioboto3, self._aio_config = _load_aioboto3()
        self._base_uri = str(parsed)
        self.bucket = parsed.bucket
        self.prefix = parsed.path
        self.settings = settings or S3Settings()
        self._stack: AsyncExitStack | None = None
        self._client_obj: Any = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def base_uri(self) -> str:
        return self._base_uri

    def uri(self, key: str) -> str:
        return f"{self._base_uri}/{validate_key(key)}"

    def key_of(self, uri: str) -> str:
        if not uri.startswith(self._base_uri + "/"):
            raise InvalidKey("uri", f"is not under {self._base_uri}", value=uri[:200])
        return validate_key(uri[len(self._base_uri) + 1 :], "uri")

    def _object_key(self, key: str) -> str:
        key = validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    # -- objects ---------------------------------------------------------------------------

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        object_key = self._object_key(key)
        client = await self._client()
        with mapped_errors(self.uri(key)):
            resp = await client.put_object(
                Bucket=self.bucket, Key=object_key, Body=data, ContentMD5=_md5_b64(data)
            )
        return BlobInfo(key=key, size=len(data), etag=_etag(resp["ETag"]))

    async def put_if_absent(self, key: str, data: bytes) -> BlobInfo:
        object_key = self._object_key(key)
        client = await self._client()
        with mapped_errors(self.uri(key)):
            try:
                resp = await client.put_object(
                    Bucket=self.bucket,
                    Key=object_key,
                    Body=data,
                    ContentMD5=_md5_b64(data),
                    IfNoneMatch="*",
                )
                return BlobInfo(key=key, size=len(data), etag=_etag(resp["ETag"]))
            except Exception as exc:
                if error_code(exc) != "PreconditionFailed" and http_status(exc) != 412:
                    raise
        try:
            existing = await self.head(key)
        except NotFound:
            raise Unavailable(
                "object vanished during put_if_absent; retry", uri=self.uri(key)
            ) from None
        md5_hex = hashlib.md5(data, usedforsecurity=False).hexdigest()
        identical = existing.etag == md5_hex or (
            existing.size == len(data) and await self.get_bytes(key) == data
        )
        if not identical:
            raise AlreadyExists(f"{key!r} exists with different content", uri=self.uri(key))
        return existing

    async def get_bytes(self, key: str) -> bytes:
        object_key = self._object_key(key)
        client = await self._client()
        with mapped_errors(self.uri(key)):
            resp = await client.get_object(Bucket=self.bucket, Key=object_key)
            body = resp["Body"]
            async with body:
                data: bytes = await body.read()  # the wrapper checks Content-Length
        return data

    async def head(self, key: str) -> BlobInfo:
        object_key = self._object_key(key)
        client = await self._client()
        with mapped_errors(self.uri(key)):
            resp = await client.head_object(Bucket=self.bucket, Key=object_key)
        return BlobInfo(key=key, size=int(resp["ContentLength"]), etag=_etag(resp["ETag"]))

    async def exists(self, key: str) -> bool:
        try:
            await self.head(key)
        except NotFound:
            return False
        return True

    async def list_prefix(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        validate_prefix(prefix)
        client = await self._client()
        strip = f"{self.prefix}/" if self.prefix else ""
        paginator = client.get_paginator("list_objects_v2")
        with mapped_errors(f"{self._base_uri}/{prefix}"):
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=strip + prefix):
                for item in page.get("Contents", []):
                    # Validate what the server returns too: a hostile object name such as
                    # "x/../../etc" must never be handed on as a key.
                    key = validate_key(item["Key"][len(strip) :], "listed key")
                    yield BlobInfo(key=key, size=int(item["Size"]), etag=_etag(item["ETag"]))

    async def delete(self, key: str) -> None:
        object_key = self._object_key(key)
        client = await self._client()
        with mapped_errors(self.uri(key)):
            await client.delete_object(Bucket=self.bucket, Key=object_key)

    async def copy(self, src_key: str, dst_key: str) -> BlobInfo:
        client, src, dst = (
            await self._client(),
            self._object_key(src_key),
            self._object_key(dst_key),
        )
        with mapped_errors(self.uri(src_key)):
            await client.copy_object(
                Bucket=self.bucket, Key=dst, CopySource={"Bucket": self.bucket, "Key": src}
            )
        return await self.head(dst_key)

    # -- local files and directories -------------------------------------------------------

    async def put_file(self, key: str, path: Path) -> BlobInfo:
        object_key = self._object_key(key)
        source = await asyncio.to_thread(_open_source, path)
        try:
            head = await asyncio.to_thread(_read_full, source, self.settings.multipart_threshold)
            if len(head) < self.settings.multipart_threshold:
                return await self.put_bytes(key, head)
            return await self._multipart(key, object_key, head, source)
        finally:
            await asyncio.to_thread(source.close)

    async def _multipart(
        self, key: str, object_key: str, head: bytes, source: BinaryIO
    ) -> BlobInfo:
        client, part_size = await self._client(), self.settings.multipart_part_size
        buffer, size = bytearray(head), 0
        parts: list[dict[str, object]] = []
        with mapped_errors(self.uri(key)):
            upload = await client.create_multipart_upload(Bucket=self.bucket, Key=object_key)
            upload_id = upload["UploadId"]
            try:
                eof = False
                while not eof or buffer:
                    if len(buffer) < part_size and not eof:
                        more = await asyncio.to_thread(_read_full, source, part_size)
                        eof = len(more) < part_size
                        buffer += more
                        continue
                    data, buffer = bytes(buffer[:part_size]), buffer[part_size:]
                    number = len(parts) + 1
                    if number > MAX_PARTS:
                        raise ConfigurationError(
                            f"more than {MAX_PARTS} parts: raise multipart_part_size", uri=key
                        )
                    resp = await client.upload_part(
                        Bucket=self.bucket,
                        Key=object_key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=data,
                        ContentMD5=_md5_b64(data),
                    )
                    parts.append({"PartNumber": number, "ETag": resp["ETag"]})
                    size += len(data)
                done = await client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=object_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            except BaseException:
                # Best effort: an unfinished upload is invisible but billed until aborted.
                with contextlib.suppress(Exception):
                    await client.abort_multipart_upload(
                        Bucket=self.bucket, Key=object_key, UploadId=upload_id
                    )
                raise
        return BlobInfo(key=key, size=size, etag=_etag(done["ETag"]))

    async def get_file(self, key: str, path: Path) -> BlobInfo:
        object_key = self._object_key(key)
        client = await self._client()
        out = _fsio.AtomicFile(path)
        with mapped_errors(self.uri(key)):
            resp = await client.get_object(Bucket=self.bucket, Key=object_key)
            await asyncio.to_thread(out.open)
            try:
                pending = bytearray()
                body = resp["Body"]  # entering it yields the raw aiohttp response: keep the wrapper
                async with body:
                    async for chunk in body.iter_chunks(_fsio.CHUNK):
                        pending += chunk
                        if len(pending) >= _fsio.CHUNK:
                            await asyncio.to_thread(out.write, bytes(pending))
                            pending.clear()
                await asyncio.to_thread(out.write, bytes(pending))
                expected = int(resp["ContentLength"])
                if out.size != expected:
                    raise Unavailable(
                        f"download truncated: {out.size} of {expected} bytes", uri=self.uri(key)
                    )
                await asyncio.to_thread(out.commit)
            finally:
                out.abort()
        return BlobInfo(key=key, size=out.size, etag=_etag(resp["ETag"]))

    async def put_dir(self, prefix: str, path: Path) -> list[BlobInfo]:
        return await upload_dir(self, prefix, path)

    async def get_dir(self, prefix: str, path: Path) -> list[Path]:
        return await download_dir(self, prefix, path)

    # -- signed URLs -----------------------------------------------------------------------

    async def signed_get_url(self, key: str, *, expires_in: int = 3600) -> SignedURL:
        return await self._presign("get_object", "GET", key, expires_in, {})

    async def signed_put_url(
        self, key: str, *, content_md5: str, expires_in: int = 3600
    ) -> SignedURL:
        if len(_b64decode(content_md5)) != 16:
            raise ValueError("content_md5 must be the base64 of a 16-byte MD5 digest")
        return await self._presign(
            "put_object", "PUT", key, expires_in, {"ContentMD5": content_md5}
        )

    async def _presign(
        self, op: str, method: str, key: str, expires_in: int, extra: dict[str, str]
    ) -> SignedURL:
        check_expires_in(expires_in)
        object_key = self._object_key(key)
        client = await self._client()
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        with mapped_errors(self.uri(key)):
            url: str = await client.generate_presigned_url(
                op,
                Params={"Bucket": self.bucket, "Key": object_key, **extra},
                ExpiresIn=expires_in,
            )
        headers = {"Content-MD5": extra["ContentMD5"]} if "ContentMD5" in extra else {}
        return SignedURL(url=url, method=method, expires_at=expires_at, headers=headers)

    # -- lifecycle -------------------------------------------------------------------------

    async def _client(self) -> Any:
        if self._client_obj is None:
            async with self._lock:
                if self._closed:
                    raise ConfigurationError("the store is closed", uri=self._base_uri)
                if self._client_obj is None:
                    self._client_obj = await self._open_client()
        return self._client_obj

    async def _open_client(self) -> Any:
        s = self.settings
        style = s.addressing_style or ("path" if s.endpoint_url else "auto")
        config = self._aio_config(
            signature_version="s3v4",
            s3={"addressing_style": style},
            retries={"max_attempts": s.max_attempts, "mode": "standard"},
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
        )
        session = self._aioboto3.Session(
            aws_access_key_id=s.access_key_id,
            aws_secret_access_key=s.secret_access_key,
            aws_session_token=s.session_token,
            region_name=s.region,
        )
        stack = AsyncExitStack()
        client = await stack.enter_async_context(
            session.client("s3", endpoint_url=s.endpoint_url, config=config)
        )
        self._stack = stack
        return client

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            stack, self._stack, self._client_obj = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _load_aioboto3() -> tuple[Any, Any]:
    try:
        import aioboto3
        from aiobotocore.config import AioConfig
    except ImportError as exc:
        raise ConfigurationError(
            "s3:// stores need aioboto3: install the extra `skyloom-core[s3]`"
        ) from exc
    return aioboto3, AioConfig


def _open_source(path: Path) -> BinaryIO:
    # Not only regular files: a pipe (or /dev/stdin) streams just as well.
    if not path.exists() or path.is_dir():
        raise NotFound(f"local file {str(path)!r} does not exist or is a directory")
    return open(path, "rb")


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at end of file (a pipe may return short reads)."""
    chunks, remaining = [], size
    while remaining > 0:
        chunk = source.read(min(remaining, _fsio.CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return b""


def _etag(raw: str) -> str:
    return raw.strip('"')
