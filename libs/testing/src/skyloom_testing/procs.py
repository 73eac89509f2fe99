"""Run Python code in a child process that a test can SIGKILL, and reap what it leaves behind.

A target is ``"package.module:function"`` or ``"/path/to/file.py:function"``; the child runs
``function(*args)`` (through ``asyncio.run`` when it is a coroutine function) and exits 0, or 1 with
the traceback on stderr. Tests usually point at a function in their own test file
(``f"{__file__}:main"``), which keeps the child program next to the assertions about it.

Each child starts in its own session (so its process group holds it and whatever it forks), with
stdout and stderr in one log file. ``kill()`` SIGKILLs the group and every descendant psutil saw;
processes are tracked as ``psutil.Process`` objects, which compare pid *and* create time, so a
recycled pid is never signalled.

Fixture: ``python_processes`` gives a :class:`ChildProcesses`; everything it spawned is killed and
reaped at teardown, whether the test passed or not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import psutil
import pytest

__all__ = ["ChildProcess", "ChildProcesses", "python_processes", "spawn_python"]


class ChildProcess:
    """One child Python process started by :func:`spawn_python`."""

    def __init__(self, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self._popen = popen
        self.log_path = log_path
        self._proc = psutil.Process(popen.pid)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def is_running(self) -> bool:
        return self._popen.poll() is None

    def output(self) -> str:
        """Everything the child wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait(self, timeout: float) -> int:
        """Wait for the child to exit; raises ``subprocess.TimeoutExpired`` after ``timeout``."""
        return self._popen.wait(timeout)

    def wait_for(self, path: Path, timeout: float) -> None:
        """Wait until ``path`` exists (a child's "I got here" marker); fail if the child dies."""
        deadline = time.monotonic() + timeout
        while not path.exists():
            if not self.is_running():
                raise AssertionError(
                    f"child {self.pid} exited ({self.returncode}) before creating {path}:\n"
                    + self.output()
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"child {self.pid} did not create {path}:\n" + self.output())
            time.sleep(0.01)

    def kill(self) -> None:
        """SIGKILL the child, its process group and every descendant; reap them. Idempotent."""
        self._signal_tree(signal.SIGKILL)

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM the child and wait; SIGKILL the tree if it is still alive after ``timeout``."""
        if self.is_running():
            self._popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout)
        self.kill()
        rc = self._popen.poll()
        assert rc is not None
        return rc

    def _signal_tree(self, sig: signal.Signals) -> None:
        descendants: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            descendants = self._proc.children(recursive=True)
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, sig)
        for proc in [self._proc, *descendants]:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
        self._popen.wait(10)
        _wait_dead(descendants, timeout=10)


def _wait_dead(procs: list[psutil.Process], timeout: float) -> None:
    # Orphans are reparented to PID 1, which may reap them late: a zombie counts as dead.
    deadline = time.monotonic() + timeout
    for proc in procs:
        while time.monotonic() < deadline:
            try:
                if proc.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.005)


def spawn_python(
    target: str,
    *args: str,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildProcess:
    """Start ``target`` (``"module:function"`` or ``"file.py:function"``) in a new Python process.

    ``env`` adds to (and overrides) this process's environment. The child runs under the same
    interpreter, so it sees the same installed packages.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    name = target.rsplit(":", 1)[-1]
    log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "skyloom_testing._child", target, *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
            cwd=cwd,
            start_new_session=True,
        )
    return ChildProcess(popen, log_path)


class ChildProcesses:
    """Spawns children for one test and kills every one of them at :meth:`close`."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._children: list[ChildProcess] = []

    def spawn(self, target: str, *args: str, env: Mapping[str, str] | None = None) -> ChildProcess:
        child = spawn_python(target, *args, log_dir=self._log_dir, env=env)
        self._children.append(child)
        return child

    def close(self) -> None:
        for child in self._children:
            child.kill()


@pytest.fixture
def python_processes(tmp_path: Path) -> Iterator[ChildProcesses]:
    """Spawn Python children for this test; all are SIGKILLed and reaped at teardown."""
    children = ChildProcesses(tmp_path / "children")
    try:
        yield children
    finally:
        children.close()
