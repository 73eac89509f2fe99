"""Directory upload/download on top of any store's single-file operations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from skyloom_core.blob import _fsio
from skyloom_core.blob.keys import validate_prefix
from skyloom_core.blob.store import BlobInfo, BlobStore

__all__ = ["download_dir", "upload_dir"]


async def upload_dir(store: BlobStore, prefix: str, path: Path) -> list[BlobInfo]:
    """Upload every regular file under ``path`` to ``<prefix>/<relative path>``, in key order.

    The whole tree is checked first (no symbolic links, every relative path a valid key), so a
    refused tree uploads nothing.
    """
    validate_prefix(prefix)
    files = await asyncio.to_thread(_fsio.walk_files, path, prefix.rstrip("/"))
    return [await store.put_file(key, local) for key, local in files]


async def download_dir(store: BlobStore, prefix: str, path: Path) -> list[Path]:
    """Download every object under ``<prefix>/`` into ``path`` (created), in listing order.

    Every listed key is mapped to a local path inside ``path`` before anything is written, so
    one hostile object name means no files at all.
    """
    base = validate_prefix(prefix).rstrip("/")
    base = f"{base}/" if base else ""
    keys = [info.key async for info in store.list_prefix(base)]

    def plan() -> list[tuple[str, Path]]:
        path.mkdir(parents=True, exist_ok=True)
        return [(key, _fsio.local_target(path, key[len(base) :])) for key in keys]

    targets = await asyncio.to_thread(plan)
    for key, target in targets:
        await store.get_file(key, target)
    return [target for _, target in targets]
