"""pytest fixtures for a real S3-compatible server: SeaweedFS ``weed mini`` on 127.0.0.1.

One server per test session (startup is ~1 s; see :mod:`skyloom_testing.s3_server`), started
only when a test asks for it, stopped at session end whether tests passed or not. Isolation
between tests comes from buckets: ``s3_bucket`` gives every test a fresh, uniquely named bucket
and deletes it (with its contents) afterwards.

Fixtures:

- ``s3_server`` (session): :class:`~skyloom_testing.s3_server.S3Credentials` —
  ``endpoint_url``, ``access_key_id``, ``secret_access_key``, ``region``.
- ``s3_bucket`` (function): :class:`S3Bucket` — ``name``, ``uri`` (``s3://name``) and
  ``credentials``.

The startup time is printed in pytest's terminal summary.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from skyloom_testing.s3_server import S3Credentials, SeaweedS3Server, s3_client

__all__ = ["S3Bucket", "s3_bucket", "s3_server"]

_started: list[SeaweedS3Server] = []


@dataclass(frozen=True)
class S3Bucket:
    """A bucket that exists for the duration of one test."""

    name: str
    credentials: S3Credentials

    @property
    def uri(self) -> str:
        return f"s3://{self.name}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Credentials]:
    """A SeaweedFS S3 server shared by the whole session, stopped (process group) at the end.

    Its data lives in a directory of its own, not under pytest's basetemp: another pytest run
    on the machine may prune old basetemp folders while this session still uses them.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="skyloom-seaweedfs-"))
    server = SeaweedS3Server(data_dir, die_with_parent=True)
    try:
        creds = server.start()
        _started.append(server)
        yield creds
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def _s3_admin_client(s3_server: S3Credentials) -> Iterator[Any]:
    client = s3_client(s3_server)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def s3_bucket(s3_server: S3Credentials, _s3_admin_client: Any) -> Iterator[S3Bucket]:
    """A fresh empty bucket for this test; deleted with everything in it at teardown."""
    name = f"t-{secrets.token_hex(8)}"
    _s3_admin_client.create_bucket(Bucket=name)
    try:
        yield S3Bucket(name=name, credentials=s3_server)
    finally:
        _delete_bucket(_s3_admin_client, name)


def _delete_bucket(client: Any, name: str) -> None:
    # Empty it first: weed allows deleting a non-empty bucket, real S3 does not.
    with contextlib.suppress(client.exceptions.NoSuchBucket):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [item["Key"] for item in page.get("Contents", [])]
            try:
                if keys:
                    objects = [{"Key": key} for key in keys]
                    client.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})
            except client.exceptions.ClientError:
                # DeleteObjects is XML, which cannot carry control characters some tests store.
                for key in keys:
                    client.delete_object(Bucket=name, Key=key)
        uploads = client.list_multipart_uploads(Bucket=name).get("Uploads", [])
        for upload in uploads:
            client.abort_multipart_upload(
                Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        client.delete_bucket(Bucket=name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for server in _started:
        if server.startup_seconds is not None:
            terminalreporter.write_line(
                f"SeaweedFS (weed mini) S3 server: ready in {server.startup_seconds:.2f}s"
            )
