"""Fixtures for the type-engine tests: a fresh engine and a recording local store."""

from __future__ import annotations

from pathlib import Path

import pytest

from skyloom.types import TransferContext, TypeEngine, new_engine
from skyloom.types.local_store import RecordingStore


@pytest.fixture
def engine() -> TypeEngine:
    return new_engine()


@pytest.fixture
def store(tmp_path: Path) -> RecordingStore:
    return RecordingStore(tmp_path / "raw")


@pytest.fixture
def ctx(store: RecordingStore) -> TransferContext:
    return TransferContext(store=store)
