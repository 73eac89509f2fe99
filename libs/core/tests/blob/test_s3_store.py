"""s3:// against a real SeaweedFS: multipart, presigned URLs over plain HTTP, error mapping."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import os
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from skyloom_core.blob import (
    AccessDenied,
    BlobSettings,
    InvalidKey,
    NotFound,
    S3Settings,
    S3Store,
    Unavailable,
    content_md5,
    store_for,
)
from skyloom_testing.s3 import S3Bucket
from skyloom_testing.s3_server import s3_client

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture
async def s3(s3_bucket: S3Bucket, s3_settings: S3Settings) -> AsyncIterator[S3Store]:
    async with S3Store(s3_bucket.uri, s3_settings) as store:
        yield store


@pytest.fixture
def raw_client(s3_bucket: S3Bucket) -> Any:
    client = s3_client(s3_bucket.credentials)
    yield client
    client.close()


def _http(
    url: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def http(
    url: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> tuple[int, bytes]:
    return await asyncio.to_thread(_http, url, method, body, **headers)


async def test_multipart_upload_above_threshold_is_byte_exact(
    s3_bucket: S3Bucket, s3_settings: S3Settings, tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        s3_settings, multipart_threshold=1 * MIB, multipart_part_size=5 * MIB
    )
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(11 * MIB + 12345))  # parts: 5 MiB, 5 MiB, 1 MiB + 12345
    async with S3Store(s3_bucket.uri, settings) as store:
        info = await store.put_file("raw/big.bin", source)
        small = await store.put_file("raw/small.bin", _write(tmp_path / "s", b"x" * 1000))
        dest = tmp_path / "down.bin"
        await store.get_file("raw/big.bin", dest)
        head = await store.head("raw/big.bin")

    assert info.etag.endswith("-3")  # S3 marks a 3-part upload in its ETag
    assert "-" not in small.etag  # below the threshold: one PutObject
    assert head.size == info.size == source.stat().st_size
    assert dest.read_bytes() == source.read_bytes()


async def test_cancelled_multipart_upload_is_aborted(
    s3_bucket: S3Bucket, s3_settings: S3Settings, tmp_path: Path, raw_client: Any
) -> None:
    settings = dataclasses.replace(
        s3_settings, multipart_threshold=1 * MIB, multipart_part_size=5 * MIB
    )
    source = tmp_path / "src.fifo"
    os.mkfifo(source)

    def parts_uploaded() -> int:
        uploads = raw_client.list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads", [])
        if not uploads:
            return 0
        parts = raw_client.list_parts(
            Bucket=s3_bucket.name, Key=uploads[0]["Key"], UploadId=uploads[0]["UploadId"]
        )
        return len(parts.get("Parts", []))

    async with S3Store(s3_bucket.uri, settings) as store:
        upload = asyncio.create_task(store.put_file("raw/cancelled.bin", source))
        fd = await _open_fifo_for_writing(source)
        try:
            # 1 MiB (the threshold) + one 5 MiB part; then the upload waits for more input.
            await asyncio.to_thread(os.write, fd, os.urandom(6 * MIB))
            for _ in range(500):
                if await asyncio.to_thread(parts_uploaded) == 1:
                    break
                await asyncio.sleep(0.02)
            assert await asyncio.to_thread(parts_uploaded) == 1
            upload.cancel()
        finally:
            os.close(fd)  # EOF releases the reader thread
        with pytest.raises(asyncio.CancelledError):
            await upload
        assert not await store.exists("raw/cancelled.bin")

    assert raw_client.list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads", []) == []


async def _open_fifo_for_writing(fifo: Path) -> int:
    for _ in range(1000):
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO until the reader has opened it
            if exc.errno != errno.ENXIO:
                raise
            await asyncio.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        return fd
    raise AssertionError("the store never opened the FIFO")


async def test_presigned_get_works_over_plain_http(s3: S3Store) -> None:
    await s3.put_bytes("shared/report.html", b"<h1>deck</h1>")
    signed = await s3.signed_get_url("shared/report.html", expires_in=60)

    assert await http(signed.url) == (200, b"<h1>deck</h1>")


async def test_tampered_or_expired_presigned_get_is_refused(s3: S3Store) -> None:
    await s3.put_bytes("shared/a", b"a")
    await s3.put_bytes("shared/b", b"b")
    url = (await s3.signed_get_url("shared/a", expires_in=60)).url

    assert (await http(url.replace("/shared/a?", "/shared/b?")))[0] == 403
    assert (await http(url.replace("X-Amz-Expires=60", "X-Amz-Expires=3600")))[0] == 403
    assert (await http(url, method="DELETE"))[0] == 403
    assert await s3.get_bytes("shared/a") == b"a"

    short = (await s3.signed_get_url("shared/a", expires_in=1)).url
    await asyncio.sleep(2.1)
    assert (await http(short))[0] == 403


async def test_presigned_put_accepts_only_the_declared_bytes(s3: S3Store) -> None:
    bundle = b"code bundle v1"
    signed = await s3.signed_put_url("bundles/v1.tgz", content_md5=content_md5(bundle))
    md5 = signed.headers["Content-MD5"]

    # Other bytes with the signed MD5: the server recomputes it and refuses (BadDigest).
    status, body = await http(signed.url, "PUT", b"malicious!!!!!", **{"Content-MD5": md5})
    assert (status, b"BadDigest" in body) == (400, True)
    # Other bytes with their own MD5: the header is signed, so the signature breaks.
    other_md5 = content_md5(b"malicious!!!!!")
    assert (await http(signed.url, "PUT", b"malicious!!!!!", **{"Content-MD5": other_md5}))[
        0
    ] == 403
    # No MD5 header at all: also a signature mismatch.
    assert (await http(signed.url, "PUT", bundle))[0] == 403
    assert not await s3.exists("bundles/v1.tgz")

    assert (await http(signed.url, "PUT", bundle, **{"Content-MD5": md5}))[0] == 200
    assert await s3.get_bytes("bundles/v1.tgz") == bundle


@pytest.mark.parametrize("hostile", ["ds/\u202egnp.exe", "ds/bell\x07", "ds/.skyloom-tmp-1"])
async def test_hostile_object_names_never_reach_the_local_disk(
    s3: S3Store, s3_bucket: S3Bucket, raw_client: Any, tmp_path: Path, hostile: str
) -> None:
    # SeaweedFS itself refuses ".." segments (InvalidRequest) and folds "//"; AWS S3 accepts
    # both. What it does store, the client must refuse: bidi spoofing, control characters,
    # and our reserved temp-file names. (Traversal is covered with a fake store in
    # test_dirs.py.)
    raw_client.put_object(Bucket=s3_bucket.name, Key="ds/ok.txt", Body=b"ok")
    raw_client.put_object(Bucket=s3_bucket.name, Key=hostile, Body=b"pwned")
    dest = tmp_path / "dest"

    with pytest.raises(InvalidKey, match="listed key"):
        await s3.get_dir("ds", dest)
    assert not dest.exists() or list(dest.iterdir()) == []


async def test_prefix_store_only_sees_its_prefix(
    s3_bucket: S3Bucket, s3_settings: S3Settings
) -> None:
    settings = BlobSettings(s3=s3_settings)
    async with (
        store_for(f"{s3_bucket.uri}/tenant-a", settings) as a,
        store_for(f"{s3_bucket.uri}/tenant-ab", settings) as ab,
    ):
        await a.put_bytes("x", b"a")
        await ab.put_bytes("x", b"ab")

        assert [i.key async for i in a.list_prefix()] == ["x"]
        assert await a.get_bytes("x") == b"a"
        assert a.uri("x") == f"s3://{s3_bucket.name}/tenant-a/x"


async def test_missing_bucket_is_not_found(s3_settings: S3Settings) -> None:
    async with S3Store("s3://no-such-bucket-here", s3_settings) as store:
        with pytest.raises(NotFound):
            await store.get_bytes("k")


async def test_wrong_secret_is_access_denied(s3_bucket: S3Bucket, s3_settings: S3Settings) -> None:
    wrong = dataclasses.replace(s3_settings, secret_access_key="not-the-secret")
    async with S3Store(s3_bucket.uri, wrong) as store:
        with pytest.raises(AccessDenied):
            await store.put_bytes("k", b"x")


async def test_unreachable_endpoint_is_unavailable_and_retryable(s3_settings: S3Settings) -> None:
    down = dataclasses.replace(
        s3_settings, endpoint_url="http://127.0.0.1:9", max_attempts=1, connect_timeout=1
    )
    async with S3Store("s3://any-bucket", down) as store:
        with pytest.raises(Unavailable) as info:
            await store.get_bytes("k")
    assert info.value.retryable


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
