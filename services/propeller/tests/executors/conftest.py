"""Fixtures for tests that run real ``skyloom-execute`` processes."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from skyloom_core.blob import FileStore
from skyloom_propeller.executors.process import ProcessExecutor

MODULE = "ledger_tasks"


@pytest.fixture(scope="session")
def task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("taskmod")
    shutil.copy(Path(__file__).with_name("_tasks.py"), d / f"{MODULE}.py")
    return d


@pytest.fixture(scope="session")
def tasks(task_dir: Path) -> Iterator[ModuleType]:
    """The task module, imported under the name the subprocesses will import it by."""
    spec = importlib.util.spec_from_file_location(MODULE, task_dir / f"{MODULE}.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop(MODULE, None)


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger.txt"


@pytest.fixture
def env(task_dir: Path, ledger: Path) -> dict[str, str]:
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "PYTHONPATH": str(task_dir),
        "LEDGER": str(ledger),
        "HOME": str(task_dir),
    }


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[FileStore]:
    s = FileStore((tmp_path / "blobs").as_uri())
    async with s:
        yield s


@pytest.fixture
def make_executor(
    tmp_path: Path, store: FileStore, env: dict[str, str]
) -> Iterator[type[ProcessExecutor] | object]:
    made: list[ProcessExecutor] = []

    def make() -> ProcessExecutor:
        ex = ProcessExecutor(tmp_path / "attempts", store, env=env)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.close()
