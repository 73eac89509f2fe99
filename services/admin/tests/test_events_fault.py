"""Fault test: admin's event consumer SIGKILLed while ~500 events/s flow; after a restart
every published event is stored exactly once (zero lost, zero duplicated).

Self-contained (no relative imports): the consumer runs as a child process started from this
file (``consumer_main``), which the test kills with SIGKILL mid-stream and starts again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import asyncpg
import nats
import pytest

from skyloom_admin.app import MIGRATIONS
from skyloom_admin.events.ingest import EVENTS_CONSUMER, EventIngest, events_consumer
from skyloom_admin.events.store import EventStore
from skyloom_admin.streams import EVENTS
from skyloom_common.db import create_pool, migrate
from skyloom_common.jetstream import ConsumerOptions, ConsumerSpec, ensure_consumer, ensure_stream
from skyloom_core import ids
from skyloom_idl.core import execution_pb2 as core_exec
from skyloom_idl.core import identifier_pb2
from skyloom_idl.event import event_pb2
from skyloom_testing.procs import ChildProcesses

pytestmark = pytest.mark.integration

SCHEMA = "admin"
EXECUTIONS = 20
# Short ack_wait so messages in flight when the consumer dies come back within the test.
SPEC = ConsumerSpec(
    stream=EVENTS_CONSUMER.stream,
    durable=EVENTS_CONSUMER.durable,
    filter_subjects=EVENTS_CONSUMER.filter_subjects,
    ack_wait=2.0,
    max_ack_pending=EVENTS_CONSUMER.max_ack_pending,
    description=EVENTS_CONSUMER.description,
)


async def consumer_main(dsn: str, nats_url: str, ready: str) -> None:
    """The child: admin's event consumer alone, until killed."""
    pool = await create_pool(dsn, schema=SCHEMA, max_size=4)
    nc = await nats.connect(nats_url)
    consumer = events_consumer(
        nc.jetstream(), pool, EventIngest(EventStore(), max_inline_bytes=1 << 20),
        schema=SCHEMA, spec=SPEC, options=ConsumerOptions(batch_size=100, fetch_timeout=0.2),
    )  # fmt: skip
    async with consumer:
        await asyncio.to_thread(Path(ready).write_text, str(os.getpid()))
        await consumer.run()


def _events(
    total: int,
) -> list[tuple[str, event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent]]:
    """Distinct first events of distinct nodes and task attempts, so each is accepted in any
    order (a redelivery after the crash may overtake newer messages)."""
    out: list[tuple[str, event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent]] = []
    task_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.RESOURCE_TYPE_TASK, project="proj", domain="development",
        name="t", version="v1",
    )  # fmt: skip
    for i in range(total):
        e = identifier_pb2.WorkflowExecutionIdentifier(
            project="proj", domain="development", name=f"exec-{i % EXECUTIONS}"
        )
        nid = identifier_pb2.NodeExecutionIdentifier(node_id=f"n{i}", execution_id=e)
        if i % 2 == 0:
            phase = core_exec.NodeExecution.PHASE_QUEUED
            event = event_pb2.NodeExecutionEvent(
                event_id=ids.event_id(nid, phase), id=nid, phase=phase, producer_id="p"
            )
            out.append(("node", event))
        else:
            phase = core_exec.TaskExecution.PHASE_RUNNING
            tid = identifier_pb2.TaskExecutionIdentifier(task_id=task_id, node_execution_id=nid)
            task = event_pb2.TaskExecutionEvent(
                event_id=ids.event_id(tid, phase), task_id=task_id,
                parent_node_execution_id=nid, phase=phase, producer_id="p",
            )  # fmt: skip
            out.append(("task", task))
        out[-1][1].occurred_at.GetCurrentTime()
    return out


async def _wait_ready(path: Path, child_ok: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(path.exists):
        assert time.monotonic() < deadline, "consumer child did not start"
        await asyncio.sleep(0.05)


async def test_consumer_sigkilled_mid_stream_loses_and_duplicates_nothing(
    postgres_dsn: str, nats_url: str, python_processes: ChildProcesses, tmp_path: Path
) -> None:
    await migrate(postgres_dsn, MIGRATIONS, SCHEMA)
    db = await asyncpg.connect(postgres_dsn, server_settings={"search_path": SCHEMA})
    nc = await nats.connect(nats_url)
    try:
        for i in range(EXECUTIONS):
            await db.execute(
                "INSERT INTO executions (project, domain, name, phase, mode, workflow_name,"
                " workflow_version, spec, closure, start_item) VALUES ('proj', 'development',"
                " $1, 2, 1, 'wf', 'v1', '', '', '')",
                f"exec-{i}",
            )
        js = nc.jetstream()
        await ensure_stream(js, EVENTS)
        await ensure_consumer(js, SPEC)
        events = _events(2000)
        ready = [tmp_path / "ready-1", tmp_path / "ready-2"]
        child = python_processes.spawn(
            f"{__file__}:consumer_main", postgres_dsn, nats_url, str(ready[0])
        )
        await _wait_ready(ready[0], child)
        published: list[str] = []
        started = time.monotonic()
        killed = restarted = False
        for start in range(0, len(events), 50):  # 50 every 0.1 s: ~500 events/s
            chunk = events[start : start + 50]
            for kind, event in chunk:
                subject = f"skyloom.events.{kind}.proj.development"
                await js.publish(
                    subject, event.SerializeToString(), headers={"Nats-Msg-Id": event.event_id}
                )
                published.append(event.event_id)
            if start % 500 == 0 and start:  # re-publish a few: JetStream and admin dedupe
                kind, event = chunk[0]
                await js.publish(
                    f"skyloom.events.{kind}.proj.development",
                    event.SerializeToString(),
                    headers={"Nats-Msg-Id": event.event_id},
                )
            elapsed = time.monotonic() - started
            if not killed and elapsed > 1.5:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(10)
                killed = True
            if killed and not restarted and elapsed > 2.5:
                child = python_processes.spawn(
                    f"{__file__}:consumer_main", postgres_dsn, nats_url, str(ready[1])
                )
                restarted = True
            await asyncio.sleep(max(0.0, (start + 50) / 500 - (time.monotonic() - started)))
        assert killed
        assert restarted
        await _wait_ready(ready[1], child)
        deadline = time.monotonic() + 60
        while True:
            stored = await db.fetchval("SELECT count(*) FROM execution_events")
            if stored >= len(published) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        rows = await db.fetch("SELECT event_id::text FROM execution_events")
        stored_ids = [r["event_id"] for r in rows]
        assert len(stored_ids) == len(set(stored_ids))  # zero duplicated
        assert set(stored_ids) == set(published)  # zero lost
        assert await db.fetchval("SELECT count(*) FROM node_executions") == 1000
        assert await db.fetchval("SELECT count(*) FROM task_executions") == 1000
        assert await db.fetchval("SELECT count(*) FROM dead_letters") == 0
    finally:
        await nc.close()
        await db.close()
