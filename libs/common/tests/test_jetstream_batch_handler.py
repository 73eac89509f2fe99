"""The consumer with a batch-level handler: set-based when healthy, per message on a refusal."""

from collections.abc import Sequence

import pytest

from skyloom_common.db import Connection
from skyloom_common.jetstream import (
    BatchCommitted,
    EffectivelyOnceConsumer,
    InboundMessage,
    PoisonMessage,
    publish,
)

from .test_jetstream_consumer import FAST, SPEC, Env, env, record_effect  # noqa: F401

pytestmark = pytest.mark.integration


class RecordAll:
    """Writes a whole batch in one statement; refuses a batch holding a bad message."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def __call__(self, conn: Connection, messages: Sequence[InboundMessage]) -> None:
        self.calls.append([m.msg_id for m in messages])
        if any(m.data.startswith((b"poison", b"bug")) for m in messages):
            raise PoisonMessage("a bad message in the batch")
        await conn.executemany(
            "INSERT INTO svc.effects (msg_id, body) VALUES ($1, $2)",
            [(m.msg_id, m.data) for m in messages],
        )


async def test_batches_are_applied_by_the_batch_handler_once(env: Env) -> None:  # noqa: F811
    ids = [f"m{i}" for i in range(40)]
    for msg_id in ids:
        await publish(env.js, "work.x", msg_id.encode(), msg_id=msg_id)
    # Two already processed: the batch handler must not see them, they are only acked.
    await env.pool.execute(
        "INSERT INTO svc.processed_messages (consumer, msg_id) VALUES ('engine', 'm0'),"
        " ('engine', 'm1')"
    )
    batch_handler = RecordAll()
    async with EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, record_effect, schema="svc", options=FAST,
        batch_handler=batch_handler,
    ) as consumer:  # fmt: skip
        await env.wait_until(env.drained)

        async def counted() -> bool:
            return consumer.stats.applied + consumer.stats.duplicates == 40

        await env.wait_until(counted)
        assert (consumer.stats.applied, consumer.stats.duplicates) == (38, 2)
    assert sorted(await env.effects()) == sorted(ids[2:])
    seen = [msg_id for call in batch_handler.calls for msg_id in call]
    assert sorted(seen) == sorted(ids[2:])
    assert len(batch_handler.calls) < 38  # set-based: far fewer calls than messages


async def test_a_bad_message_falls_back_to_per_message_and_is_isolated(
    env: Env,  # noqa: F811
) -> None:
    for i in range(10):
        body = {3: b"poison-3", 7: b"bug-7"}.get(i, b"ok")
        await publish(env.js, "work.x", body, msg_id=f"m{i}")
    batches: list[BatchCommitted] = []

    async def observe(batch: BatchCommitted) -> None:
        batches.append(batch)

    async with EffectivelyOnceConsumer(
        env.js, env.pool, SPEC, record_effect, schema="svc", options=FAST,
        after_commit=observe, batch_handler=RecordAll(),
    ) as consumer:  # fmt: skip
        await env.wait_until(env.drained)
        assert consumer.stats.dead_lettered == 2
        assert consumer.stats.retried == 4  # each bad one retried alone, twice

    first = batches[0].outcome
    assert len(first.applied) == 8
    assert sorted(r.message.msg_id for r in first.poisoned) == ["m3", "m7"]
    assert sorted(await env.effects()) == sorted(f"m{i}" for i in range(10) if i not in (3, 7))
    rows = await env.pool.fetch("SELECT msg_id, num_delivered FROM svc.dead_letters ORDER BY 1")
    assert [(r["msg_id"], r["num_delivered"]) for r in rows] == [("m3", 3), ("m7", 3)]
