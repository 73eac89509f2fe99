"""Crash test of the outbox relay: SIGKILLed after publishing a batch, before marking it.

After a restart the stream holds each message exactly once (JetStream's duplicate window
absorbs the re-publish) and an effectively-once consumer applies each effect exactly once.
"""

import asyncio
import os
import signal
import textwrap
import time
from pathlib import Path

import nats
import pytest
from nats.js.api import RetentionPolicy

from skyloom_common.db import Connection, create_pool, migrate, transaction
from skyloom_common.jetstream import (
    ConsumerOptions,
    ConsumerSpec,
    EffectivelyOnceConsumer,
    InboundMessage,
    StreamSpec,
    ensure_consumer,
    ensure_stream,
)
from skyloom_common.outbox import BatchPublished, Outbox, OutboxRelay, RelayOptions
from skyloom_testing.procs import ChildProcesses

pytestmark = pytest.mark.integration

STREAM = StreamSpec(
    name="WORK", subjects=("work.>",), retention=RetentionPolicy.WORK_QUEUE, duplicate_window=600
)
SPEC = ConsumerSpec(stream="WORK", durable="engine", ack_wait=5.0)
OUTBOX = Outbox(schema="svc")
BATCH = 25
TOTAL = 100

MIGRATION = """
from alembic import op
from skyloom_common.db import migration_schema
from skyloom_common.jetstream import consumer_tables_ddl
from skyloom_common.outbox import outbox_ddl

revision = "0001"
down_revision = None


def upgrade() -> None:
    for statement in outbox_ddl(migration_schema()) + consumer_tables_ddl(migration_schema()):
        op.execute(statement)
    op.execute("CREATE TABLE effects (msg_id text NOT NULL)")
"""


async def relay_then_die(nats_url: str, dsn: str) -> None:
    """A relay process that SIGKILLs itself right after publishing its first batch."""
    nc = await nats.connect(nats_url)
    pool = await create_pool(dsn, max_size=3)

    async def die(batch: BatchPublished) -> None:
        assert len(batch.rows) == BATCH
        os.kill(os.getpid(), signal.SIGKILL)

    relay = OutboxRelay(
        pool, nc.jetstream(), OUTBOX, options=RelayOptions(batch_size=BATCH), after_publish=die
    )
    async with relay:
        await relay.run()


async def apply_effect(conn: Connection, message: InboundMessage) -> None:
    await conn.execute("INSERT INTO svc.effects (msg_id) VALUES ($1)", message.msg_id)


async def test_relay_killed_between_publish_and_mark_publishes_each_message_once(
    nats_url: str, postgres_dsn: str, python_processes: ChildProcesses, tmp_path: Path
) -> None:
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(
        "from skyloom_common.db.alembic_env import run_migrations\n\nrun_migrations()\n"
    )
    (scripts / "versions" / "0001_first.py").write_text(textwrap.dedent(MIGRATION))
    await migrate(postgres_dsn, scripts, "svc")
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    await ensure_consumer(js, SPEC)
    pool = await create_pool(postgres_dsn, max_size=4)
    ids = [f"exec-{i:03d}" for i in range(TOTAL)]
    try:
        async with transaction(pool) as conn:
            for msg_id in ids:
                await OUTBOX.enqueue(conn, f"work.{msg_id}", msg_id.encode(), msg_id)

        child = python_processes.spawn(f"{__file__}:relay_then_die", nats_url, postgres_dsn)
        assert await asyncio.to_thread(child.wait, 60) == -signal.SIGKILL, child.output()

        # Published but never marked: the stream has the first batch, the table still owes it.
        assert (await js.stream_info("WORK")).state.messages == BATCH
        assert (
            await pool.fetchval("SELECT count(*) FROM svc.outbox WHERE published_at IS NULL")
            == TOTAL
        )

        async with OutboxRelay(pool, js, OUTBOX, options=RelayOptions(batch_size=BATCH)) as relay:
            deadline = time.monotonic() + 30
            while await relay.backlog():
                assert time.monotonic() < deadline, "relay did not drain the outbox"
                await asyncio.sleep(0.05)
        assert relay.stats.duplicates == BATCH  # the re-published first batch, absorbed
        assert relay.stats.published == TOTAL

        info = await js.stream_info("WORK")
        assert info.state.messages == TOTAL
        assert info.state.last_seq == TOTAL  # no sequence was spent on a duplicate

        options = ConsumerOptions(batch_size=20, fetch_timeout=0.2)
        async with EffectivelyOnceConsumer(
            js, pool, SPEC, apply_effect, schema="svc", options=options
        ) as consumer:
            deadline = time.monotonic() + 30
            while consumer.stats.applied < TOTAL:
                assert time.monotonic() < deadline, "consumer did not apply every message"
                await asyncio.sleep(0.05)
        rows = await pool.fetch("SELECT msg_id, count(*) AS n FROM svc.effects GROUP BY 1")
        assert {r["msg_id"]: r["n"] for r in rows} == dict.fromkeys(ids, 1)
        assert consumer.stats.duplicates == 0
    finally:
        await pool.close()
        await nc.close()
