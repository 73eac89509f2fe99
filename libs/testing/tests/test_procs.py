"""Child Python processes can be SIGKILLed, and nothing they forked outlives the test."""

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from skyloom_testing.procs import ChildProcesses

pytestmark = pytest.mark.integration


def write_and_sleep(marker: str, value: str) -> None:
    Path(marker).write_text(f"{value} {os.getpid()}")
    time.sleep(60)


def fork_grandchild_and_sleep(marker: str) -> None:
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    Path(marker).write_text(str(grandchild.pid))
    time.sleep(60)


async def async_writer(marker: str) -> None:
    await asyncio.sleep(0)
    with open(marker, "w") as f:  # noqa: ASYNC230 - a tiny write in a throwaway child
        f.write("async done")


def fail_loudly() -> None:
    raise RuntimeError("boom from the child")


def test_child_runs_a_function_from_a_test_file_and_can_be_killed(
    python_processes: ChildProcesses, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    child = python_processes.spawn(f"{__file__}:write_and_sleep", str(marker), "hello")
    child.wait_for(marker, timeout=30)
    value, pid = marker.read_text().split()
    assert value == "hello"
    assert int(pid) == child.pid
    child.kill()
    assert child.returncode == -9


def test_kill_reaps_grandchildren(python_processes: ChildProcesses, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    child = python_processes.spawn(f"{__file__}:fork_grandchild_and_sleep", str(marker))
    child.wait_for(marker, timeout=30)
    grandchild = psutil.Process(int(marker.read_text()))
    assert grandchild.is_running()
    child.kill()
    with contextlib.suppress(psutil.NoSuchProcess):
        assert grandchild.status() == psutil.STATUS_ZOMBIE  # dead, waiting for PID 1 to reap it


def test_coroutine_targets_are_awaited(python_processes: ChildProcesses, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    child = python_processes.spawn(f"{__file__}:async_writer", str(marker))
    assert child.wait(30) == 0
    assert marker.read_text() == "async done"


def test_a_failing_child_exits_nonzero_with_its_traceback(python_processes: ChildProcesses) -> None:
    child = python_processes.spawn(f"{__file__}:fail_loudly")
    assert child.wait(30) == 1
    assert "boom from the child" in child.output()
