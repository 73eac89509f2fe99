"""Events ingested/s by admin's SKYLOOM_EVENTS consumer, beside a bare batched asyncpg insert
of the same number of rows measured in the same run.

    uv run --frozen --no-sync python bench/admin/bench_ingest_events.py [--events 20000]

Starts Postgres (embedded, fsync off) and NATS (sync_interval always), migrates admin's
schema, creates ``--executions`` execution rows, publishes ``--events`` task events (each a new
phase version of one of ``--executions`` x 10 task attempts, so every one is accepted and moves
its projection) to SKYLOOM_EVENTS, then starts the consumer (batches of ``--batch``) and times
it until every event is in the event log. The floor inserts the same number of rows into a
plain table with ``executemany`` in batches of 500, one transaction per batch. Not run by
``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import nats

sys.path.insert(0, str(Path(__file__).parent))
from _servers import servers

from skyloom_admin.app import MIGRATIONS
from skyloom_admin.events.ingest import EVENTS_CONSUMER, EventIngest, events_consumer
from skyloom_admin.events.store import EventStore
from skyloom_admin.streams import EVENTS
from skyloom_common.db import create_pool, migrate
from skyloom_common.jetstream import ConsumerOptions, ensure_consumer, ensure_stream
from skyloom_core import ids
from skyloom_idl.core import execution_pb2 as core_exec
from skyloom_idl.core import identifier_pb2
from skyloom_idl.event import event_pb2

SCHEMA = "admin"


def events(total: int, executions: int) -> list[event_pb2.TaskExecutionEvent]:
    task_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.RESOURCE_TYPE_TASK, project="bench", domain="development",
        name="t", version="v1",
    )  # fmt: skip
    attempts = executions * 10
    out = []
    for i in range(total):
        e = identifier_pb2.WorkflowExecutionIdentifier(
            project="bench", domain="development", name=f"e{i % executions}"
        )
        nid = identifier_pb2.NodeExecutionIdentifier(node_id=f"n{i % attempts}", execution_id=e)
        tid = identifier_pb2.TaskExecutionIdentifier(task_id=task_id, node_execution_id=nid)
        phase = core_exec.TaskExecution.PHASE_RUNNING
        version = i // attempts
        event = event_pb2.TaskExecutionEvent(
            event_id=ids.event_id(tid, phase, phase_version=version), task_id=task_id,
            parent_node_execution_id=nid, phase=phase, phase_version=version, producer_id="b",
        )  # fmt: skip
        event.occurred_at.GetCurrentTime()
        out.append(event)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--executions", type=int, default=50)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    async with servers() as (dsn, nats_url, _):
        await migrate(dsn, MIGRATIONS, SCHEMA)
        pool = await create_pool(dsn, schema=SCHEMA, max_size=4)
        nc = await nats.connect(nats_url)
        try:
            for i in range(args.executions):
                await pool.execute(
                    "INSERT INTO executions (project, domain, name, phase, mode, workflow_name,"
                    " workflow_version, spec, closure, start_item) VALUES ('bench', 'development',"
                    " $1, 2, 1, 'wf', 'v1', '', '', '')",
                    f"e{i}",
                )
            js = nc.jetstream()
            await ensure_stream(js, EVENTS)
            await ensure_consumer(js, EVENTS_CONSUMER)
            batch = events(args.events, args.executions)
            pending = []
            for event in batch:
                pending.append(
                    js.publish(
                        "skyloom.events.task.bench.development", event.SerializeToString(),
                        headers={"Nats-Msg-Id": event.event_id},
                    )
                )  # fmt: skip
                if len(pending) >= 500:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
            consumer = events_consumer(
                js, pool, EventIngest(EventStore(), max_inline_bytes=1 << 20), schema=SCHEMA,
                options=ConsumerOptions(batch_size=args.batch, fetch_timeout=0.2),
            )  # fmt: skip
            started = time.perf_counter()
            async with consumer:
                while True:
                    done = await pool.fetchval("SELECT count(*) FROM execution_events")
                    if done >= args.events:
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
            print(f"consumer stats: {consumer.stats}")
            print(
                f"{'admin event consumer (batch ' + str(args.batch) + ')':<36}"
                f" {args.events / elapsed:8.0f} events/s  ({args.events} in {elapsed:.2f} s)"
            )
            await pool.execute(
                "CREATE TABLE floor_events (seq bigserial PRIMARY KEY, event_id uuid UNIQUE,"
                " payload bytea NOT NULL)"
            )
            rows = [(e.event_id, e.SerializeToString()) for e in batch]
            started = time.perf_counter()
            async with pool.acquire() as conn:
                for i in range(0, len(rows), 500):
                    async with conn.transaction():
                        await conn.executemany(
                            "INSERT INTO floor_events (event_id, payload) VALUES ($1::uuid, $2)",
                            rows[i : i + 500],
                        )
            elapsed = time.perf_counter() - started
            print(
                f"{'floor: bare asyncpg executemany(500)':<36}"
                f" {args.events / elapsed:8.0f} rows/s    ({args.events} in {elapsed:.2f} s)"
            )
        finally:
            await nc.close()
            await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
