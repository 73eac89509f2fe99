"""The effectively-once consumer: every message applied once, bad ones dead-lettered, clean stop."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy

from skyloom_common.db import Connection, create_pool
from skyloom_common.jetstream import (
    BatchCommitted,
    ConsumerMissingError,
    ConsumerOptions,
    ConsumerSpec,
    EffectivelyOnceConsumer,
    InboundMessage,
    PoisonMessage,
    StreamSpec,
    consumer_tables_ddl,
    ensure_consumer,
    ensure_stream,
    publish,
)

pytestmark = pytest.mark.integration

STREAM = StreamSpec(name="WORK", subjects=("work.>",), retention=RetentionPolicy.WORK_QUEUE)
SPEC = ConsumerSpec(stream="WORK", durable="engine", ack_wait=5.0)
FAST = ConsumerOptions(batch_size=16, fetch_timeout=0.2, retry_delay=0.05, max_deliveries=3)


@dataclass
class Env:
    js: JetStreamContext
    pool: asyncpg.Pool

    async def effects(self) -> list[str]:
        return [r["msg_id"] for r in await self.pool.fetch("SELECT msg_id FROM svc.effects")]

    async def wait_until(self, check: Callable[[], Awaitable[bool]], within: float = 20) -> None:
        deadline = time.monotonic() + within
        while not await check():
            assert time.monotonic() < deadline, "condition not reached in time"
            await asyncio.sleep(0.05)

    async def drained(self) -> bool:
        info = await self.js.consumer_info("WORK", "engine")
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)


@pytest.fixture
async def env(nats_url: str, postgres_dsn: str) -> AsyncIterator[Env]:
    pool = await create_pool(postgres_dsn, max_size=4)
    async with pool.acquire() as conn:
        await conn.execute("CREATE SCHEMA svc")
        for statement in consumer_tables_ddl("svc"):
            await conn.execute(statement)
        await conn.execute("CREATE TABLE svc.effects (msg_id text NOT NULL, body bytea)")
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    await ensure_consumer(js, SPEC)
    yield Env(js, pool)
    await nc.close()
    await pool.close()


async def record_effect(conn: Connection, message: InboundMessage) -> None:
    if message.data.startswith(b"poison"):
        raise PoisonMessage(f"cannot parse {message.data!r}")
    if message.data.startswith(b"bug"):
        raise KeyError("handler bug")
    await conn.execute(
        "INSERT INTO svc.effects (msg_id, body) VALUES ($1, $2)", message.msg_id, message.data
    )


async def test_every_message_is_applied_once_and_acked(env: Env) -> None:
    ids = [f"m{i}" for i in range(100)]
    for msg_id in ids:
        await publish(env.js, "work.x", msg_id.encode(), msg_id=msg_id)
    async with EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, record_effect, schema="svc", options=FAST
    ) as consumer:
        await env.wait_until(env.drained)
        assert consumer.stats.applied == 100
    assert sorted(await env.effects()) == sorted(ids)
    assert (await env.js.stream_info("WORK")).state.messages == 0
    processed = await env.pool.fetchval("SELECT count(*) FROM svc.processed_messages")
    assert processed == 100


async def test_a_republished_id_outside_the_dedupe_window_is_applied_once(
    env: Env,
) -> None:
    await env.js.update_stream(STREAM.to_config(), duplicate_window=0.2)
    await publish(env.js, "work.x", b"first", msg_id="same")
    await asyncio.sleep(0.3)
    again = await publish(env.js, "work.x", b"again", msg_id="same")
    assert not again.duplicate  # JetStream forgot it: only the consumer's table can tell
    async with EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, record_effect, schema="svc", options=FAST
    ) as consumer:
        await env.wait_until(env.drained)
        assert (consumer.stats.applied, consumer.stats.duplicates) == (1, 1)
    assert await env.effects() == ["same"]


async def test_poison_messages_are_dead_lettered_while_the_others_flow(env: Env) -> None:
    for i in range(10):
        body = {3: b"poison-3", 7: b"bug-7"}.get(i, b"ok")
        await publish(env.js, "work.x", body, msg_id=f"m{i}", headers={"k": str(i)})
    batches: list[BatchCommitted] = []

    async def observe(batch: BatchCommitted) -> None:
        batches.append(batch)

    async with EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, record_effect, schema="svc", options=FAST, after_commit=observe
    ) as consumer:
        await env.wait_until(env.drained)
        assert consumer.stats.dead_lettered == 2
        assert consumer.stats.retried == 4  # each bad one retried alone, twice

    # The first batch committed the 8 good messages despite the two bad ones in it.
    first = batches[0].outcome
    assert len(first.applied) == 8
    assert sorted(r.message.msg_id for r in first.poisoned) == ["m3", "m7"]
    assert sorted(await env.effects()) == sorted(f"m{i}" for i in range(10) if i not in (3, 7))

    rows = await env.pool.fetch(
        "SELECT msg_id, subject, payload, headers, error, num_delivered "
        "FROM svc.dead_letters ORDER BY msg_id"
    )
    assert [(r["msg_id"], r["num_delivered"]) for r in rows] == [("m3", 3), ("m7", 3)]
    assert rows[0]["error"] == "cannot parse b'poison-3'"
    assert rows[1]["error"] == "KeyError: 'handler bug'"
    assert rows[0]["payload"] == b"poison-3"
    assert rows[0]["subject"] == "work.x"
    assert '"k": "3"' in rows[0]["headers"]
    assert (await env.js.stream_info("WORK")).state.messages == 0


async def test_shutdown_is_idempotent_and_prompt_when_idle(env: Env) -> None:
    consumer = EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, record_effect, schema="svc", options=ConsumerOptions()
    )
    async with consumer:
        runner = asyncio.create_task(consumer.run())
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await consumer.shutdown()
        await consumer.shutdown()
        await asyncio.wait_for(runner, 5)
    assert time.monotonic() - started < 1.0


async def test_cancelling_run_stops_the_loop_and_propagates(env: Env) -> None:
    async with EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, record_effect, schema="svc", options=FAST
    ) as consumer:
        runner = asyncio.create_task(consumer.run())
        await asyncio.sleep(0.1)
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
        await publish(env.js, "work.x", b"late", msg_id="late")
        await asyncio.sleep(0.5)
        assert consumer.stats.applied == 0  # the loop is gone, not running behind our back


async def test_shutdown_drains_the_batch_in_flight(env: Env) -> None:
    for i in range(5):
        await publish(env.js, "work.x", b"slow", msg_id=f"m{i}")
    entered = asyncio.Event()

    async def slow(conn: Connection, message: InboundMessage) -> None:
        entered.set()
        await asyncio.sleep(0.1)
        await record_effect(conn, message)

    async with EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, slow, schema="svc", options=FAST
    ) as consumer:
        await entered.wait()
        await consumer.shutdown()
        assert consumer.stats.applied == 5
    assert len(await env.effects()) == 5
    assert await env.drained()


async def test_starting_on_a_missing_consumer_says_so(env: Env) -> None:
    ghost = ConsumerSpec(stream="WORK", durable="ghost")
    with pytest.raises(ConsumerMissingError, match="ensure_consumer"):
        async with EffectivelyOnceConsumer(env.js, env.pool, ghost, record_effect, schema="svc"):
            pass


def test_server_max_deliver_below_dead_letter_threshold_is_refused() -> None:
    spec = ConsumerSpec(stream="WORK", durable="d", max_deliver=2)
    with pytest.raises(ValueError, match="never be dead-lettered"):
        EffectivelyOnceConsumer(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            spec,
            record_effect,
            schema="svc",
            options=ConsumerOptions(max_deliveries=5),
        )
