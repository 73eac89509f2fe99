"""Events through SKYLOOM_EVENTS: applied by admin's durable consumer, repeats ignored, poison
messages dead-lettered while the rest flows."""

from __future__ import annotations

import asyncio

import pytest

from skyloom_idl.admin import execution_pb2

from .conftest import Running
from .test_events import NODE, WF, _eid, node_event, run, wf_event  # noqa: F401
from .test_executions import lp  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


async def _publish(admin: Running, kind: str, data: bytes, msg_id: str) -> None:
    await admin.app.ctx.js.publish(
        f"skyloom.events.{kind}.proj.development", data, headers={"Nats-Msg-Id": msg_id}
    )


async def _until(admin: Running, table: str, where: str, count: int) -> None:
    for _ in range(300):
        if await admin.count(table, where) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{table} WHERE {where}: fewer than {count} rows")


async def test_consumer_applies_events_in_order(admin: Running, run: str) -> None:  # noqa: F811
    events = [wf_event(run, p) for p in (WF.PHASE_QUEUED, WF.PHASE_RUNNING, WF.PHASE_SUCCEEDED)]
    node = node_event(run, "n0", NODE.PHASE_RUNNING)
    for event in events:
        await _publish(admin, "workflow", event.SerializeToString(), event.event_id)
    await _publish(admin, "node", node.SerializeToString(), node.event_id)
    await _until(admin, "execution_events", "true", 4)
    got = await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=_eid(run)))
    assert got.execution.closure.phase == WF.PHASE_SUCCEEDED
    # the same event again under another message id (a producer bug): the event log's unique
    # event_id catches it; and a message whose Nats-Msg-Id is not its event_id is refused
    late = wf_event(run, WF.PHASE_RUNNING)
    await _publish(admin, "workflow", late.SerializeToString(), late.event_id)
    await asyncio.sleep(1.0)
    assert await admin.count("execution_events") == 4
    assert await admin.count("dead_letters") == 0


async def test_poison_message_is_dead_lettered_and_others_flow(admin: Running, run: str) -> None:  # noqa: F811
    await _publish(admin, "workflow", b"\xff\xfe not a protobuf", "garbage-1")
    ghost = wf_event("ghost", WF.PHASE_RUNNING)  # an execution admin never created
    await _publish(admin, "workflow", ghost.SerializeToString(), ghost.event_id)
    good = wf_event(run, WF.PHASE_RUNNING)
    await _publish(admin, "workflow", good.SerializeToString(), good.event_id)
    await _until(admin, "execution_events", "true", 1)
    await _until(admin, "dead_letters", "true", 2)
    reasons = [
        r["error"] for r in await admin.db.fetch("SELECT error FROM dead_letters ORDER BY msg_id")
    ]
    assert any("not found" in r for r in reasons)
    assert any("not a skyloom.event.WorkflowExecutionEvent" in r for r in reasons)
