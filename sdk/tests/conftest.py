"""Every SDK test gets its own local cache and run directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_local_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYLOOM_LOCAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SKYLOOM_LOCAL_RUNS", str(tmp_path / "runs"))
