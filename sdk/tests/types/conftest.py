"""Fixtures for the type-engine tests: a fresh engine and a counting local store."""

from __future__ import annotations

from pathlib import Path

import pytest

from skyloom.types import LocalRawDataStore, TransferContext, TypeEngine, new_engine


class CountingStore(LocalRawDataStore):
    """A local store that records every transfer, to prove laziness."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.downloads: list[str] = []
        self.uploads: list[Path] = []

    def upload_file(self, local_path: Path) -> str:
        self.uploads.append(local_path)
        return super().upload_file(local_path)

    def upload_dir(self, local_path: Path) -> str:
        self.uploads.append(local_path)
        return super().upload_dir(local_path)

    def download_file(self, uri: str) -> Path:
        self.downloads.append(uri)
        return super().download_file(uri)

    def download_dir(self, uri: str) -> Path:
        self.downloads.append(uri)
        return super().download_dir(uri)


@pytest.fixture
def engine() -> TypeEngine:
    return new_engine()


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "raw")


@pytest.fixture
def ctx(store: CountingStore) -> TransferContext:
    return TransferContext(store=store)
