"""Upload locations on real S3 (SeaweedFS): a signed PUT bound to the MD5, never overwriting
different content."""

from __future__ import annotations

import asyncio
import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from skyloom_admin.dataproxy import upload_key
from skyloom_common.errors import AlreadyExists, InvalidArgument, NotFound
from skyloom_idl.admin import data_proxy_pb2 as pb
from skyloom_idl.admin import project_pb2

from .conftest import DOMAIN, PROJECT, Running, fails

pytestmark = pytest.mark.integration


def put(url: str, data: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_signed_put_is_bound_to_the_content(admin_s3: Running) -> None:
    admin = admin_s3
    await admin.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=project_pb2.Project(id=PROJECT))
    )
    data = b"bundle bytes"
    md5 = hashlib.md5(data).digest()
    request = pb.CreateUploadLocationRequest(
        project=PROJECT, domain=DOMAIN, filename="bundle.tar.gz", content_md5=md5
    )
    location = await admin.stub.CreateUploadLocation(request)
    assert location.native_url.endswith(upload_key(PROJECT, DOMAIN, md5, "bundle.tar.gz"))
    headers = dict(location.headers)
    assert await asyncio.to_thread(put, location.signed_url, b"other bytes!", headers) >= 400
    assert await asyncio.to_thread(put, location.signed_url, data, headers) == 200
    again = await admin.stub.CreateUploadLocation(request)  # same content: fine
    assert again.native_url == location.native_url

    store = admin.app.ctx.uploads
    assert store is not None
    # Plant different content at the key of another digest: refused, nothing overwritten.
    other_md5 = hashlib.md5(b"expected").digest()
    key = upload_key(PROJECT, DOMAIN, other_md5, "bundle.tar.gz")
    await store.put_bytes(key, b"something else")
    clash = pb.CreateUploadLocationRequest(
        project=PROJECT, domain=DOMAIN, filename="bundle.tar.gz", content_md5=other_md5
    )
    error = await fails(admin.stub.CreateUploadLocation(clash))
    assert isinstance(error, AlreadyExists)
    assert await store.get_bytes(key) == b"something else"


@pytest.mark.parametrize(
    ("filename", "md5", "path"),
    [
        ("../x", b"0" * 16, "filename"),
        ("a/b", b"0" * 16, "filename"),
        ("nul\x00", b"0" * 16, "filename"),
        ("ok.tgz", b"short", "content_md5"),
    ],
)
async def test_bad_requests(
    admin: Running, project: str, filename: str, md5: bytes, path: str
) -> None:
    request = pb.CreateUploadLocationRequest(
        project=PROJECT, domain=DOMAIN, filename=filename, content_md5=md5
    )
    error = await fails(admin.stub.CreateUploadLocation(request))
    assert isinstance(error, InvalidArgument)
    assert path in error.field_paths


async def test_unknown_project(admin: Running) -> None:
    request = pb.CreateUploadLocationRequest(
        project="ghost", domain=DOMAIN, filename="f", content_md5=b"0" * 16
    )
    assert isinstance(await fails(admin.stub.CreateUploadLocation(request)), NotFound)


async def test_file_store_without_signing_secret_is_failed_precondition(
    admin: Running, project: str
) -> None:
    from skyloom_common.errors import FailedPrecondition

    request = pb.CreateUploadLocationRequest(
        project=PROJECT, domain=DOMAIN, filename="bundle.tgz", content_md5=b"0" * 16
    )
    error = await fails(admin.stub.CreateUploadLocation(request))
    assert isinstance(error, FailedPrecondition)
    assert error.reason == "UPLOADS_NOT_CONFIGURED"


async def test_file_store_with_signing_secret_gives_a_verifiable_url(
    postgres_dsn: str, nats_url: str, tmp_path: Path
) -> None:
    import secrets
    import time

    from skyloom_core.blob import BlobSettings, FileSettings, store_for, verify

    from .conftest import admin_settings, start

    secret = secrets.token_bytes(32)
    blob_settings = BlobSettings(
        file=FileSettings(signing_secret=secret, signed_url_base="http://127.0.0.1:9/blob")
    )
    async with store_for(f"file://{tmp_path}/data", blob_settings) as data:
        async for running in start(admin_settings(postgres_dsn, nats_url), data_store=data):
            await running.stub.RegisterProject(
                project_pb2.RegisterProjectRequest(project=project_pb2.Project(id=PROJECT))
            )
            md5 = hashlib.md5(b"x").digest()
            reply = await running.stub.CreateUploadLocation(
                pb.CreateUploadLocationRequest(
                    project=PROJECT, domain=DOMAIN, filename="f.bin", content_md5=md5
                )
            )
            grant = verify(reply.signed_url, secret, time.time())
            assert grant.method == "PUT"
            assert grant.key.endswith(upload_key(PROJECT, DOMAIN, md5, "f.bin"))
