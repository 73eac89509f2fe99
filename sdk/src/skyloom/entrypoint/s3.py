"""``s3://`` for ``skyloom-execute``, through libs/core's blob store (``skyloom-core[s3]``).

Credentials and endpoint come from the environment a pod or sandbox process gets:
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (else botocore's default chain),
``AWS_REGION`` and ``SKYLOOM_S3_ENDPOINT`` (or ``AWS_ENDPOINT_URL``) for S3-compatible servers.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _settings() -> Any:
    from skyloom_core.blob.settings import BlobSettings, S3Settings

    env = os.environ
    return BlobSettings(
        s3=S3Settings(
            endpoint_url=env.get("SKYLOOM_S3_ENDPOINT") or env.get("AWS_ENDPOINT_URL"),
            region=env.get("AWS_REGION", "us-east-1"),
            access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        )
    )


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return f"s3://{bucket}", key.strip("/")


class S3IO:
    """Each call opens the store, does one transfer and closes it (an attempt does a handful)."""

    def _run(self, uri: str, op: Callable[[Any, str], Awaitable[T]]) -> T:
        from skyloom_core.blob import store_for

        base, key = _split(uri)

        async def go() -> T:
            async with store_for(base, _settings()) as store:
                return await op(store, key)

        return asyncio.run(go())

    def read_bytes(self, uri: str) -> bytes:
        data: bytes = self._run(uri, lambda s, k: s.get_bytes(k))
        return data

    def write_bytes(self, uri: str, data: bytes) -> None:
        self._run(uri, lambda s, k: s.put_bytes(k, data))

    def download(self, uri: str, dest: Path) -> Path:
        async def op(store: Any, key: str) -> None:
            if await store.exists(key):
                await store.get_file(key, dest)
            else:  # a prefix (a checkpoint directory); nothing there is fine
                await store.get_dir(key, dest)

        self._run(uri, op)
        return dest

    def upload(self, src: Path, uri: str) -> None:
        if src.is_dir():
            self._run(uri, lambda s, k: s.put_dir(k, src))
        else:
            self._run(uri, lambda s, k: s.put_file(k, src))
