"""The outbox publishes exactly what committed, promptly (LISTEN) or at worst by polling."""

import asyncio
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from skyloom_common.db import create_pool, migrate, transaction
from skyloom_common.jetstream import StreamSpec, ensure_stream
from skyloom_common.outbox import (
    NotInTransaction,
    Outbox,
    OutboxMetrics,
    OutboxRelay,
    RelayOptions,
)
from skyloom_testing.postgres import PostgresServer

pytestmark = pytest.mark.integration

STREAM = StreamSpec(name="WORK", subjects=("work.>",))
OUTBOX = Outbox(schema="svc")
FIRST_MIGRATION = """
from alembic import op
from skyloom_common.db import migration_schema
from skyloom_common.jetstream import consumer_tables_ddl, drop_consumer_tables_ddl
from skyloom_common.outbox import drop_outbox_ddl, outbox_ddl

revision = "0001"
down_revision = None


def upgrade() -> None:
    for statement in outbox_ddl(migration_schema()) + consumer_tables_ddl(migration_schema()):
        op.execute(statement)
    op.execute("CREATE TABLE effects (msg_id text NOT NULL)")


def downgrade() -> None:
    for statement in drop_outbox_ddl(migration_schema()) + drop_consumer_tables_ddl(
        migration_schema()
    ):
        op.execute(statement)
"""


async def migrate_service_schema(dsn: str, root: Path) -> None:
    """What a service's setup() does: its first migration includes the outbox and dedupe DDL."""
    scripts = root / "migrations"
    (scripts / "versions").mkdir(parents=True, exist_ok=True)
    (scripts / "env.py").write_text(
        "from skyloom_common.db.alembic_env import run_migrations\n\nrun_migrations()\n"
    )
    (scripts / "versions" / "0001_first.py").write_text(textwrap.dedent(FIRST_MIGRATION))
    await migrate(dsn, scripts, "svc")


@dataclass
class Env:
    nc: Client
    js: JetStreamContext
    pool: asyncpg.Pool

    async def stream_ids(self) -> list[str]:
        """The Nats-Msg-Id of every message in the stream, in stream order."""
        info = await self.js.stream_info("WORK")
        ids = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await self.js.get_msg("WORK", seq)
            ids.append((msg.headers or {})["Nats-Msg-Id"])
        return ids

    async def enqueue(self, *msg_ids: str) -> None:
        async with transaction(self.pool) as conn:
            for msg_id in msg_ids:
                await OUTBOX.enqueue(conn, f"work.{msg_id}", msg_id.encode(), msg_id)


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 10) -> float:
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, "condition not reached in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
async def env(nats_url: str, postgres_dsn: str, tmp_path: Path) -> AsyncIterator[Env]:
    await migrate_service_schema(postgres_dsn, tmp_path)
    pool = await create_pool(postgres_dsn, max_size=6)
    nc = await nats.connect(nats_url)
    await ensure_stream(nc.jetstream(), STREAM)
    yield Env(nc, nc.jetstream(), pool)
    await nc.close()
    await pool.close()


async def test_only_committed_rows_are_published_in_order(env: Env) -> None:

    async def enqueue_then_abort() -> None:
        async with transaction(env.pool) as conn:
            await OUTBOX.enqueue(conn, "work.x", b"never", "rolled-back")
            raise RuntimeError("abort the transaction")

    with pytest.raises(RuntimeError, match="abort"):
        await enqueue_then_abort()
    await env.enqueue("a", "b", "c")
    async with transaction(env.pool) as conn:
        assert not await OUTBOX.enqueue(conn, "work.x", b"again", "b")  # id already queued

    async with OutboxRelay(env.pool, env.js, OUTBOX) as relay:
        await wait_until(lambda: _drained(relay))
    assert await env.stream_ids() == ["a", "b", "c"]
    published = await env.pool.fetchval(
        "SELECT count(*) FROM svc.outbox WHERE published_at IS NOT NULL"
    )
    assert published == 3


async def _drained(relay: OutboxRelay) -> bool:
    return await relay.backlog() == 0


async def test_enqueue_outside_a_transaction_is_refused(env: Env) -> None:
    async with env.pool.acquire() as conn:
        with pytest.raises(NotInTransaction):
            await OUTBOX.enqueue(conn, "work.x", b"x", "m1")


async def test_notify_wakes_the_relay_long_before_the_poll(env: Env) -> None:
    options = RelayOptions(poll_interval=30.0)
    async with OutboxRelay(env.pool, env.js, OUTBOX, options=options) as relay:
        await wait_until(lambda: _true(relay.stats.listen_sessions >= 1))
        await asyncio.sleep(0.2)  # the relay is idle, waiting for a wake-up
        await env.enqueue("prompt")
        latency = await wait_until(lambda: _true(relay.stats.published == 1), within=5)
        assert relay.stats.notifications >= 1
    assert latency < 2.0


async def test_polling_finds_rows_that_sent_no_notification(env: Env) -> None:
    options = RelayOptions(poll_interval=0.2)
    async with OutboxRelay(env.pool, env.js, OUTBOX, options=options) as relay:
        await wait_until(lambda: _true(relay.stats.listen_sessions >= 1))
        await env.pool.execute(
            "INSERT INTO svc.outbox (msg_id, subject, payload) VALUES ('quiet', 'work.q', 'x')"
        )
        await wait_until(lambda: _true(relay.stats.published == 1), within=5)
        assert relay.stats.notifications == 0
    assert await env.stream_ids() == ["quiet"]


async def test_backlog_gauge_tracks_rows_waiting_during_a_nats_outage(env: Env) -> None:
    await env.js.delete_stream("WORK")  # nothing answers the publishes: rows must wait
    await env.enqueue("x1", "x2", "x3")
    registry = CollectorRegistry()
    metrics = OutboxMetrics(registry)
    options = RelayOptions(
        poll_interval=0.1, retry_delay=0.05, max_retry_delay=0.1, ack_timeout=0.5
    )

    def gauge() -> float | None:
        return registry.get_sample_value("skyloom_outbox_backlog", {"schema": "svc"})

    async with OutboxRelay(env.pool, env.js, OUTBOX, options=options, metrics=metrics) as relay:
        await wait_until(lambda: _true(gauge() == 3.0 and relay.stats.failures >= 1))
        await ensure_stream(env.js, STREAM)
        await wait_until(lambda: _true(gauge() == 0.0))
    assert registry.get_sample_value("skyloom_outbox_published_total", {"schema": "svc"}) == 3
    assert await env.stream_ids() == ["x1", "x2", "x3"]


async def test_two_relays_share_the_work_without_publishing_twice(env: Env) -> None:
    ids = [f"m{i:03d}" for i in range(300)]
    await env.enqueue(*ids)
    options = RelayOptions(batch_size=10)
    async with (
        OutboxRelay(env.pool, env.js, OUTBOX, options=options) as one,
        OutboxRelay(env.pool, env.js, OUTBOX, options=options) as two,
    ):
        await wait_until(lambda: _drained(one))
    assert one.stats.published + two.stats.published == 300
    assert one.stats.published > 0
    assert two.stats.published > 0
    assert one.stats.duplicates + two.stats.duplicates == 0  # SKIP LOCKED: no row sent twice
    assert sorted(await env.stream_ids()) == ids


async def test_published_message_carries_the_trace_of_the_request_that_enqueued_it(
    env: Env,
) -> None:
    with TracerProvider().get_tracer("test").start_as_current_span("CreateExecution") as span:
        await env.enqueue("traced")
    trace_id = format(span.get_span_context().trace_id, "032x")
    async with OutboxRelay(env.pool, env.js, OUTBOX) as relay:
        await wait_until(lambda: _drained(relay))
    msg = await env.js.get_msg("WORK", 1)
    assert (msg.headers or {})["traceparent"].split("-")[1] == trace_id


async def test_shutdown_is_idempotent_and_prompt(env: Env) -> None:
    relay = OutboxRelay(env.pool, env.js, OUTBOX, options=RelayOptions(poll_interval=30))
    async with relay:
        runner = asyncio.create_task(relay.run())
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await relay.shutdown()
        await relay.shutdown()
        await asyncio.wait_for(runner, 5)
    assert time.monotonic() - started < 1.0


async def test_listen_is_restored_after_a_postgres_restart(
    postgres_private_server: PostgresServer, nats_url: str, tmp_path: Path
) -> None:
    server = postgres_private_server
    await migrate_service_schema(server.dsn(), tmp_path)
    pool = await create_pool(server.dsn(), max_size=4, connect_timeout=1)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    options = RelayOptions(poll_interval=30.0, retry_delay=0.1, max_retry_delay=0.5)
    try:
        async with OutboxRelay(pool, js, OUTBOX, options=options) as relay:
            await wait_until(lambda: _true(relay.stats.listen_sessions == 1))
            await asyncio.to_thread(server.crash)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(server.start)
            await wait_until(lambda: _true(relay.stats.listen_sessions >= 2))
            async with transaction(pool) as conn:
                await OUTBOX.enqueue(conn, "work.after", b"x", "after-restart")
            # Far sooner than the 30 s poll: only the restored LISTEN can explain it.
            await wait_until(lambda: _true(relay.stats.published == 1), within=3)
    finally:
        await nc.close()
        await pool.close()


async def _true(value: bool) -> bool:
    return value
