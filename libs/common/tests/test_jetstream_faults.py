"""Crash tests of the effectively-once consumer: SIGKILL mid-batch and between commit and ack,
NATS killed and restarted, Postgres crashed. Afterwards: nothing lost, nothing applied twice."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy

from skyloom_common.db import Connection, create_pool
from skyloom_common.jetstream import (
    BatchCommitted,
    ConsumerOptions,
    ConsumerSpec,
    EffectivelyOnceConsumer,
    InboundMessage,
    StreamSpec,
    consumer_tables_ddl,
    ensure_consumer,
    ensure_stream,
    publish,
)
from skyloom_testing.nats import NatsServer
from skyloom_testing.postgres import PostgresServer
from skyloom_testing.procs import ChildProcesses

pytestmark = pytest.mark.integration

STREAM = StreamSpec(name="WORK", subjects=("work.>",), retention=RetentionPolicy.WORK_QUEUE)
# A short ack_wait so messages held by a killed consumer come back quickly.
SPEC = ConsumerSpec(stream="WORK", durable="engine", ack_wait=1.0)
OPTIONS = ConsumerOptions(batch_size=20, fetch_timeout=0.2, retry_delay=0.1, max_retry_delay=1.0)
TOTAL = 200


async def prepare(dsn: str, js: JetStreamContext) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE SCHEMA svc")
        for statement in consumer_tables_ddl("svc"):
            await conn.execute(statement)
        # No unique constraint on purpose: a double application shows up as a repeated row.
        await conn.execute("CREATE TABLE svc.effects (msg_id text NOT NULL)")
    finally:
        await conn.close()
    await ensure_stream(js, STREAM)
    await ensure_consumer(js, SPEC)
    ids = [f"evt-{i:04d}" for i in range(TOTAL)]
    for msg_id in ids:
        await publish(js, f"work.{msg_id}", msg_id.encode(), msg_id=msg_id)
    return ids


async def effect_counts(dsn: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT count(*), count(DISTINCT msg_id) FROM svc.effects")
        assert row is not None
        return row[0], row[1]
    finally:
        await conn.close()


async def consume_in_child(nats_url: str, dsn: str, marker: str, mode: str) -> None:
    """A consumer process that freezes at a chosen point, touching ``marker``, to be killed.

    ``mid-batch``: freezes inside the transaction of its second batch, after 5 effects of it.
    ``after-commit``: freezes after its first batch committed, before any ack.
    """
    nc = await nats.connect(nats_url)
    pool = await create_pool(dsn, max_size=2)
    handled = 0

    async def freeze() -> None:
        await asyncio.to_thread(Path(marker).touch)
        await asyncio.sleep(3600)

    async def handler(conn: Connection, message: InboundMessage) -> None:
        nonlocal handled
        await conn.execute("INSERT INTO svc.effects (msg_id) VALUES ($1)", message.msg_id)
        handled += 1
        if mode == "mid-batch" and handled == OPTIONS.batch_size + 5:
            await freeze()

    async def after_commit(batch: BatchCommitted) -> None:
        if mode == "after-commit":
            await freeze()

    consumer = EffectivelyOnceConsumer(
        nc.jetstream(), pool, SPEC, handler, schema="svc", options=OPTIONS,
        after_commit=after_commit,
    )  # fmt: skip
    async with consumer:
        await consumer.run()


async def count_effects(conn: Connection, message: InboundMessage) -> None:
    await conn.execute("INSERT INTO svc.effects (msg_id) VALUES ($1)", message.msg_id)


async def consume_until_drained(
    js: JetStreamContext, pool: asyncpg.Pool, within: float = 60
) -> EffectivelyOnceConsumer:
    consumer = EffectivelyOnceConsumer(js, pool, SPEC, count_effects, schema="svc", options=OPTIONS)
    async with consumer:
        deadline = time.monotonic() + within
        while True:
            try:
                info = await js.consumer_info("WORK", "engine")
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    break
            except Exception:  # NATS may be restarting: keep waiting
                pass
            assert time.monotonic() < deadline, "consumer did not drain the stream"
            await asyncio.sleep(0.1)
    return consumer


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield nc.jetstream()
    await nc.close()


async def test_sigkill_mid_batch_and_after_commit_loses_nothing_and_applies_nothing_twice(
    nats_url: str,
    postgres_dsn: str,
    js: JetStreamContext,
    python_processes: ChildProcesses,
    tmp_path: Path,
) -> None:
    ids = await prepare(postgres_dsn, js)

    # 1. Killed inside the transaction of its second batch: the first batch stays committed,
    #    the second rolls back entirely (5 effects were written in it before the kill).
    marker = tmp_path / "mid"
    child = python_processes.spawn(
        f"{__file__}:consume_in_child", nats_url, postgres_dsn, str(marker), "mid-batch"
    )
    await asyncio.to_thread(child.wait_for, marker, 60)
    child.kill()
    await asyncio.sleep(0.2)  # let Postgres notice the dropped connection and roll back
    assert await effect_counts(postgres_dsn) == (OPTIONS.batch_size, OPTIONS.batch_size)

    # 2. Killed after a commit, before any ack: that batch is applied, yet still unacked.
    marker = tmp_path / "commit"
    child = python_processes.spawn(
        f"{__file__}:consume_in_child", nats_url, postgres_dsn, str(marker), "after-commit"
    )
    await asyncio.to_thread(child.wait_for, marker, 60)
    child.kill()
    applied, distinct = await effect_counts(postgres_dsn)
    assert applied == distinct == 2 * OPTIONS.batch_size

    # 3. A fresh consumer finishes the job; the committed-but-unacked batch only gets acked.
    pool = await create_pool(postgres_dsn, max_size=2)
    try:
        consumer = await consume_until_drained(js, pool)
        rows = await pool.fetch("SELECT msg_id, count(*) AS n FROM svc.effects GROUP BY 1")
    finally:
        await pool.close()
    assert {r["msg_id"]: r["n"] for r in rows} == dict.fromkeys(ids, 1)
    assert consumer.stats.duplicates >= OPTIONS.batch_size
    assert consumer.stats.applied == TOTAL - 2 * OPTIONS.batch_size
    assert (await js.stream_info("WORK")).state.messages == 0


async def test_nats_killed_and_restarted_mid_stream(
    nats_server: NatsServer, postgres_dsn: str, js: JetStreamContext
) -> None:
    ids = await prepare(postgres_dsn, js)
    pool = await create_pool(postgres_dsn, max_size=2)
    seen = 0
    killed = asyncio.Event()

    async def slow_count(conn: Connection, message: InboundMessage) -> None:
        nonlocal seen
        seen += 1
        if seen == 50:
            nats_server.kill()  # in the middle of a batch: its acks will fail
            killed.set()
        await count_effects(conn, message)

    consumer = EffectivelyOnceConsumer(js, pool, SPEC, slow_count, schema="svc", options=OPTIONS)
    try:
        async with consumer:
            await killed.wait()
            await asyncio.sleep(0.5)
            nats_server.start()
            deadline = time.monotonic() + 60
            while (await effect_counts(postgres_dsn))[1] < TOTAL:
                assert time.monotonic() < deadline, "consumer did not catch up after restart"
                await asyncio.sleep(0.1)
        rows = await pool.fetch("SELECT msg_id, count(*) AS n FROM svc.effects GROUP BY 1")
    finally:
        await pool.close()
    assert {r["msg_id"]: r["n"] for r in rows} == dict.fromkeys(ids, 1)


async def test_postgres_crash_rolls_back_then_consumption_resumes(
    postgres_private_server: PostgresServer, js: JetStreamContext
) -> None:
    server = postgres_private_server
    dsn = server.dsn()
    ids = await prepare(dsn, js)
    pool = await create_pool(dsn, max_size=2, connect_timeout=1)
    crashed = asyncio.Event()

    async def crash_once(conn: Connection, message: InboundMessage) -> None:
        if not crashed.is_set() and message.msg_id == "evt-0050":
            crashed.set()
            await asyncio.to_thread(server.crash)
        await count_effects(conn, message)

    consumer = EffectivelyOnceConsumer(js, pool, SPEC, crash_once, schema="svc", options=OPTIONS)
    try:
        async with consumer:
            await crashed.wait()
            await asyncio.sleep(0.5)
            await asyncio.to_thread(server.start)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await effect_counts(dsn))[1] == TOTAL:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "consumer did not resume after the crash"
                await asyncio.sleep(0.1)
            assert consumer.stats.failed_batches >= 1
        rows = await pool.fetch("SELECT msg_id, count(*) AS n FROM svc.effects GROUP BY 1")
    finally:
        await pool.close()
    assert {r["msg_id"]: r["n"] for r in rows} == dict.fromkeys(ids, 1)
