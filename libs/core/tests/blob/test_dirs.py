"""Directory download against a fake store that lists hostile keys (as AWS S3 may)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skyloom_core.blob import BlobInfo, InvalidKey
from skyloom_core.blob._dirs import download_dir


class ListsWhatItIsTold:
    """Only what download_dir uses: a listing and a get_file that records its targets."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.written: list[Path] = []

    async def list_prefix(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        for key in self.keys:
            yield BlobInfo(key=key, size=1, etag="e")

    async def get_file(self, key: str, path: Path) -> BlobInfo:
        await asyncio.to_thread(_write, path)
        self.written.append(path)
        return BlobInfo(key=key, size=1, etag="e")


@pytest.mark.parametrize(
    "hostile", ["ds/../../escaped", "ds/a/../../../escaped", "ds//abs", "ds/", "ds/a\\..\\b"]
)
async def test_a_hostile_listed_key_means_no_files_at_all(tmp_path: Path, hostile: str) -> None:
    store = ListsWhatItIsTold(["ds/fine.txt", hostile])
    dest = tmp_path / "deep" / "dest"

    with pytest.raises(InvalidKey):
        await download_dir(store, "ds", dest)  # type: ignore[arg-type]

    assert store.written == []
    assert _files_under(tmp_path) == []


async def test_plain_keys_land_inside_the_destination(tmp_path: Path) -> None:
    store = ListsWhatItIsTold(["ds/a.txt", "ds/sub/b.txt"])

    written = await download_dir(store, "ds/", tmp_path / "d")  # type: ignore[arg-type]

    assert [p.relative_to(tmp_path / "d").as_posix() for p in written] == ["a.txt", "sub/b.txt"]


def _write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def _files_under(root: Path) -> list[str]:
    return sorted(p.as_posix() for p in root.rglob("*") if p.is_file())
