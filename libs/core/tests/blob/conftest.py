"""Stores under test: ``file://`` in a temp dir, and ``s3://`` on the session's SeaweedFS."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skyloom_core.blob import BlobSettings, BlobStore, FileSettings, S3Settings, store_for
from skyloom_testing.s3 import S3Bucket


@pytest.fixture
def file_settings() -> BlobSettings:
    """file:// settings with URL signing towards a (not running) data proxy."""
    return BlobSettings(
        file=FileSettings(
            signing_secret=secrets.token_bytes(32), signed_url_base="http://127.0.0.1:9/blob"
        )
    )


@pytest.fixture
def s3_settings(s3_bucket: S3Bucket) -> S3Settings:
    """Settings reaching this test's bucket on SeaweedFS."""
    creds = s3_bucket.credentials
    return S3Settings(
        endpoint_url=creds.endpoint_url,
        region=creds.region,
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        max_attempts=2,
    )


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.integration)])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, file_settings: BlobSettings
) -> AsyncIterator[BlobStore]:
    """The same contract, once per implementation (the s3 one starts SeaweedFS)."""
    if request.param == "file":
        blob_store = store_for(f"file://{tmp_path}/store", file_settings)
    else:
        bucket: S3Bucket = request.getfixturevalue("s3_bucket")
        settings = BlobSettings(s3=request.getfixturevalue("s3_settings"))
        blob_store = store_for(f"{bucket.uri}/base", settings)
    async with blob_store:
        yield blob_store
