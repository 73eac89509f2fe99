"""Real Postgres and NATS for the admin benches (skyloom_testing's servers, own temp dirs)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from skyloom_testing.nats import NatsServer
from skyloom_testing.postgres import PostgresServer


@contextlib.asynccontextmanager
async def servers() -> AsyncIterator[tuple[str, str, Path]]:
    """(postgres DSN of a fresh database, NATS URL, a scratch dir).

    SIGTERM (e.g. from `timeout`) becomes SystemExit so the servers are stopped on the way out
    instead of outliving the bench."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = Path(tempfile.mkdtemp(prefix="skyloom-bench-"))
    pg = PostgresServer(base / "pg")
    nats = NatsServer(base / "nats")
    try:
        pg.start()
        nats.start()
        name = await pg.create_database()
        yield pg.dsn(name), nats.url, base
    finally:
        nats.stop()
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0
