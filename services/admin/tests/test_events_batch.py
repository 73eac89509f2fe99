"""The set-based batch path (``EventIngest.handle_batch``) against the per-event path: the same
log and projections for the same messages, and a bad message makes the batch refuse."""

from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2

from skyloom_admin.events.ingest import EventIngest
from skyloom_admin.events.store import EventStore
from skyloom_common.errors import NotFound
from skyloom_common.jetstream import InboundMessage, PoisonMessage
from skyloom_idl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.event import event_pb2

from .conftest import Running
from .test_events import NODE, TASK, WF, node_event, task_event, wf_event
from .test_executions import create_request, lp  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

Event = (
    event_pb2.WorkflowExecutionEvent | event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent
)


def _message(event: Event) -> InboundMessage:
    kind = {
        event_pb2.WorkflowExecutionEvent: "workflow",
        event_pb2.NodeExecutionEvent: "node",
        event_pb2.TaskExecutionEvent: "task",
    }[type(event)]
    return InboundMessage(
        msg_id=event.event_id, subject=f"skyloom.events.{kind}.p.d", data=event.SerializeToString(),
        headers={}, stream="SKYLOOM_EVENTS", stream_seq=0, num_delivered=1,
    )  # fmt: skip


def _script(name: str) -> list[Event]:
    """Duplicates, out-of-order and after-terminal events for execution ``name``."""
    queued = wf_event(name, WF.PHASE_QUEUED)
    running = wf_event(name, WF.PHASE_RUNNING)
    n_run = node_event(name, "n0", NODE.PHASE_RUNNING)
    n_queued = node_event(name, "n0", NODE.PHASE_QUEUED)  # out of order
    t0 = task_event(name, "n0", TASK.PHASE_RUNNING, 0)
    t2 = task_event(name, "n0", TASK.PHASE_RUNNING, 2)
    t1 = task_event(name, "n0", TASK.PHASE_RUNNING, 1)  # older version
    t_done = task_event(name, "n0", TASK.PHASE_SUCCEEDED, 0)
    n_done = node_event(name, "n0", NODE.PHASE_SUCCEEDED)
    n_late = node_event(name, "n0", NODE.PHASE_FAILED)  # after terminal
    n_other = node_event(name, "n1", NODE.PHASE_RUNNING)
    done = wf_event(name, WF.PHASE_SUCCEEDED)
    after = wf_event(name, WF.PHASE_FAILED)  # after terminal
    # `running` and `t0` come twice (a re-publish after the dedupe window): the log tells.
    script: list[Event] = [
        queued, running, n_run, n_queued, t0, t2, t1, running, t0, t_done, n_done, n_late,
        n_other, done, after,
    ]  # fmt: skip
    for i, event in enumerate(script):  # the same clock for both executions
        event.occurred_at.CopyFrom(timestamp_pb2.Timestamp(seconds=1_700_000_100 + i))
    return script


async def _state(admin: Running, name: str) -> tuple[object, ...]:
    rows = await admin.db.fetch(
        "SELECT kind, node_id, retry_group, retry_attempt, phase, phase_version, applied"
        " FROM execution_events WHERE execution_name = $1 ORDER BY seq",
        name,
    )
    log = [tuple(r) for r in rows]
    ex = await admin.db.fetchrow(
        "SELECT phase, closure, started_at IS NOT NULL AS s, ended_at IS NOT NULL AS e"
        " FROM executions WHERE name = $1",
        name,
    )
    closure = execution_pb2.ExecutionClosure.FromString(ex["closure"])
    for differs in (
        "created_at",
        "duration",
        "state_change_details",
        "inputs_uri",
    ):  # per execution
        closure.ClearField(differs)
    nodes = []
    for r in await admin.db.fetch(
        "SELECT node_id, phase, closure, metadata, ended_at IS NOT NULL AS e FROM node_executions"
        " WHERE execution_name = $1 ORDER BY node_id",
        name,
    ):
        nc = node_execution_pb2.NodeExecutionClosure.FromString(r["closure"])
        nodes.append((r["node_id"], r["phase"], nc, r["metadata"], r["e"]))
    tasks = []
    for r in await admin.db.fetch(
        "SELECT node_id, retry_attempt, phase, phase_version, closure, task_name"
        " FROM task_executions WHERE execution_name = $1 ORDER BY node_id, retry_attempt",
        name,
    ):
        tc = task_execution_pb2.TaskExecutionClosure.FromString(r["closure"])
        tasks.append((*tuple(r)[:4], tc, r["task_name"]))
    return log, (ex["phase"], closure, ex["s"], ex["e"]), nodes, tasks


async def test_a_batch_stores_what_one_at_a_time_stores(
    admin: Running,
    lp: object,  # noqa: F811
) -> None:
    for name in ("one", "many"):
        await admin.stub.CreateExecution(create_request(lp, name, x=1))  # type: ignore[arg-type]
    ingest = EventIngest(EventStore(), max_inline_bytes=1 << 20)

    def messages(name: str) -> list[InboundMessage]:
        return [_message(e) for e in _script(name)]

    for message in messages("one"):
        async with admin.db.transaction():
            await ingest.handle(admin.db, message)
    async with admin.db.transaction():
        await ingest.handle_batch(admin.db, messages("many"))

    one, many = await _state(admin, "one"), await _state(admin, "many")
    assert one == many
    log = one[0]
    # 15 messages: two re-sent ids, an older task version and two after-terminal events are
    # not logged; the late QUEUED node event is logged without moving the projection
    assert len(log) == 10
    assert [r[-1] for r in log].count(False) == 1
    assert one[1][0] == WF.PHASE_SUCCEEDED


async def test_a_batch_with_a_bad_message_is_refused_whole(
    admin: Running,
    lp: object,  # noqa: F811
) -> None:
    await admin.stub.CreateExecution(create_request(lp, "bad", x=1))  # type: ignore[arg-type]
    ingest = EventIngest(EventStore(), max_inline_bytes=1 << 20)
    good = _message(wf_event("bad", WF.PHASE_RUNNING))
    ghost = _message(wf_event("ghost", WF.PHASE_RUNNING))  # no such execution
    garbage = InboundMessage(
        msg_id="g", subject="skyloom.events.node.p.d", data=b"\xff\xfe", headers={},
        stream="SKYLOOM_EVENTS", stream_seq=0, num_delivered=1,
    )  # fmt: skip
    with pytest.raises(NotFound):
        async with admin.db.transaction():
            await ingest.handle_batch(admin.db, [good, ghost])
    with pytest.raises(PoisonMessage):
        async with admin.db.transaction():
            await ingest.handle_batch(admin.db, [good, garbage])
    assert await admin.count("execution_events", "execution_name = 'bad'") == 0
    # and one at a time, the good one applies and the bad one is a poison message
    async with admin.db.transaction():
        await ingest.handle(admin.db, good)
    with pytest.raises(PoisonMessage):
        await ingest.handle(admin.db, ghost)
    assert await admin.count("execution_events", "execution_name = 'bad'") == 1
