"""Event ingestion over gRPC: the guard's answers, ordering, projections and the rebuild."""

from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2

from skyloom_admin.events.rebuild import rebuild_execution
from skyloom_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from skyloom_core import ids
from skyloom_idl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.core import execution_pb2 as core_exec
from skyloom_idl.core import identifier_pb2
from skyloom_idl.event import event_pb2, ingest_pb2

from .conftest import DOMAIN, PROJECT, RT, Running, fails, ident
from .test_executions import create_request, lp  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

WF = core_exec.WorkflowExecution.Phase
NODE = core_exec.NodeExecution.Phase
TASK = core_exec.TaskExecution.Phase
_clock = [1_700_000_000]


def _ts() -> timestamp_pb2.Timestamp:
    _clock[0] += 1
    return timestamp_pb2.Timestamp(seconds=_clock[0])


def _eid(name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def wf_event(name: str, phase: int, **fields: object) -> event_pb2.WorkflowExecutionEvent:
    e = _eid(name)
    return event_pb2.WorkflowExecutionEvent(
        event_id=ids.event_id(e, phase), execution_id=e, producer_id="propeller-0",
        phase=phase, occurred_at=_ts(), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def workflow_event(
    name: str, phase: int, **fields: object
) -> ingest_pb2.CreateWorkflowEventRequest:
    return ingest_pb2.CreateWorkflowEventRequest(event=wf_event(name, phase, **fields))


def node_event(name: str, node: str, phase: int, **fields: object) -> event_pb2.NodeExecutionEvent:
    nid = identifier_pb2.NodeExecutionIdentifier(node_id=node, execution_id=_eid(name))
    return event_pb2.NodeExecutionEvent(
        event_id=ids.event_id(nid, phase), id=nid, producer_id="propeller-0", phase=phase,
        occurred_at=_ts(), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def task_event(
    name: str, node: str, phase: int, version: int = 0, attempt: int = 0, **fields: object
) -> event_pb2.TaskExecutionEvent:
    nid = identifier_pb2.NodeExecutionIdentifier(node_id=node, execution_id=_eid(name))
    task_id = ident(RT.RESOURCE_TYPE_TASK, "t.double")
    tid = identifier_pb2.TaskExecutionIdentifier(
        task_id=task_id, node_execution_id=nid, retry_attempt=attempt
    )
    return event_pb2.TaskExecutionEvent(
        event_id=ids.event_id(tid, phase, phase_version=version), task_id=task_id,
        parent_node_execution_id=nid, retry_attempt=attempt, phase=phase,
        phase_version=version, occurred_at=_ts(), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


async def _execution(admin: Running, name: str) -> execution_pb2.Execution:
    reply = await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=_eid(name)))
    return reply.execution


@pytest.fixture
async def run(admin: Running, lp: identifier_pb2.Identifier) -> str:  # noqa: F811
    await admin.stub.CreateExecution(create_request(lp, "ev", x=1))
    return "ev"


async def test_workflow_events_guard(admin: Running, run: str) -> None:
    await admin.stub.CreateWorkflowEvent(workflow_event(run, WF.PHASE_QUEUED))
    running = workflow_event(run, WF.PHASE_RUNNING)
    await admin.stub.CreateWorkflowEvent(running)
    again = await fails(admin.stub.CreateWorkflowEvent(workflow_event(run, WF.PHASE_RUNNING)))
    assert isinstance(again, AlreadyExists)
    back = await fails(admin.stub.CreateWorkflowEvent(workflow_event(run, WF.PHASE_QUEUED)))
    assert isinstance(back, AlreadyExists)  # the QUEUED event is already in the log
    succeeded = workflow_event(run, WF.PHASE_SUCCEEDED, output_uri="file:///o/outputs.pb")
    await admin.stub.CreateWorkflowEvent(succeeded)
    late = await fails(admin.stub.CreateWorkflowEvent(workflow_event(run, WF.PHASE_FAILED)))
    assert isinstance(late, FailedPrecondition)
    assert late.reason == "ALREADY_IN_TERMINAL_STATE"
    got = await _execution(admin, run)
    assert got.closure.phase == WF.PHASE_SUCCEEDED
    assert got.closure.outputs_uri == "file:///o/outputs.pb"
    assert got.closure.HasField("started_at")
    assert got.closure.started_at == running.event.occurred_at
    elapsed = succeeded.event.occurred_at.seconds - running.event.occurred_at.seconds
    assert got.closure.duration.seconds == elapsed
    assert await admin.count("execution_events") == 3


async def test_bad_events(admin: Running, run: str) -> None:
    wrong_id = wf_event(run, WF.PHASE_RUNNING)
    wrong_id.event_id = ids.event_id(_eid(run), WF.PHASE_QUEUED)
    error = await fails(
        admin.stub.CreateWorkflowEvent(ingest_pb2.CreateWorkflowEventRequest(event=wrong_id))
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("event.event_id",)
    no_phase = wf_event(run, WF.PHASE_RUNNING)
    no_phase.phase = 0
    error = await fails(
        admin.stub.CreateWorkflowEvent(ingest_pb2.CreateWorkflowEventRequest(event=no_phase))
    )
    assert isinstance(error, InvalidArgument)
    assert "event.phase" in error.field_paths
    unknown = await fails(admin.stub.CreateWorkflowEvent(workflow_event("ghost", WF.PHASE_RUNNING)))
    assert isinstance(unknown, NotFound)
    bad_node = node_event(run, "../n0", NODE.PHASE_RUNNING)
    error = await fails(
        admin.stub.CreateNodeEvent(ingest_pb2.CreateNodeEventRequest(event=bad_node))
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("event.id.node_id",)
    assert await admin.count("execution_events") == 0


async def test_out_of_order_events_are_stored_not_applied(admin: Running, run: str) -> None:
    await admin.stub.CreateNodeEvent(
        ingest_pb2.CreateNodeEventRequest(
            event=node_event(run, "n0", NODE.PHASE_RUNNING, input_uri="file:///i.pb")
        )
    )
    await admin.stub.CreateNodeEvent(
        ingest_pb2.CreateNodeEventRequest(event=node_event(run, "n0", NODE.PHASE_QUEUED))
    )
    node = (
        await admin.stub.GetNodeExecution(
            node_execution_pb2.GetNodeExecutionRequest(
                id=identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=_eid(run))
            )
        )
    ).node_execution
    assert node.closure.phase == NODE.PHASE_RUNNING
    assert node.input_uri == "file:///i.pb"
    assert await admin.count("execution_events", "applied") == 1
    assert await admin.count("execution_events", "NOT applied") == 1
    dup = await fails(
        admin.stub.CreateNodeEvent(
            ingest_pb2.CreateNodeEventRequest(event=node_event(run, "n0", NODE.PHASE_RUNNING))
        )
    )
    assert isinstance(dup, AlreadyExists)


async def test_task_events_merge_logs_and_versions(admin: Running, run: str) -> None:
    log = core_exec.TaskLog
    send = admin.stub.CreateTaskEvent
    await send(ingest_pb2.CreateTaskEventRequest(event=task_event(run, "n0", TASK.PHASE_QUEUED)))
    await send(
        ingest_pb2.CreateTaskEventRequest(
            event=task_event(
                run, "n0", TASK.PHASE_RUNNING, 0, logs=[log(name="stdout", uri="file:///a")]
            )
        )
    )
    await send(
        ingest_pb2.CreateTaskEventRequest(
            event=task_event(
                run,
                "n0",
                TASK.PHASE_RUNNING,
                2,
                logs=[log(name="ui", uri="http://ui")],
                reason="progress",
            )
        )
    )
    stale = await fails(
        send(ingest_pb2.CreateTaskEventRequest(event=task_event(run, "n0", TASK.PHASE_RUNNING, 1)))
    )
    assert isinstance(stale, AlreadyExists)
    await send(
        ingest_pb2.CreateTaskEventRequest(
            event=task_event(
                run,
                "n0",
                TASK.PHASE_FAILED,
                0,
                error=core_exec.ExecutionError(code="Boom", message="bad"),
            )
        )
    )
    late = await fails(
        send(ingest_pb2.CreateTaskEventRequest(event=task_event(run, "n0", TASK.PHASE_RUNNING, 5)))
    )
    assert isinstance(late, FailedPrecondition)
    await send(
        ingest_pb2.CreateTaskEventRequest(
            event=task_event(run, "n0", TASK.PHASE_SUCCEEDED, attempt=1)
        )
    )
    nid = identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=_eid(run))
    listed = await admin.stub.ListTaskExecutions(
        task_execution_pb2.ListTaskExecutionsRequest(node_execution_id=nid)
    )
    first, second = listed.task_executions
    assert [x.name for x in first.closure.logs] == ["stdout", "ui"]
    assert first.closure.phase == TASK.PHASE_FAILED
    assert first.closure.error.code == "Boom"
    assert first.closure.reason == "progress"
    assert second.id.retry_attempt == 1
    assert second.closure.phase == TASK.PHASE_SUCCEEDED
    got = await admin.stub.GetTaskExecution(
        task_execution_pb2.GetTaskExecutionRequest(id=second.id)
    )
    assert got.task_execution == second


async def test_rebuild_from_the_log_matches_the_projection(admin: Running, run: str) -> None:
    send_n = admin.stub.CreateNodeEvent
    send_t = admin.stub.CreateTaskEvent
    await admin.stub.CreateWorkflowEvent(workflow_event(run, WF.PHASE_QUEUED))
    await admin.stub.CreateWorkflowEvent(workflow_event(run, WF.PHASE_RUNNING))
    for node in ("n0", "n1"):
        await send_n(
            ingest_pb2.CreateNodeEventRequest(event=node_event(run, node, NODE.PHASE_QUEUED))
        )
        await send_n(
            ingest_pb2.CreateNodeEventRequest(event=node_event(run, node, NODE.PHASE_RUNNING))
        )
        await send_t(
            ingest_pb2.CreateTaskEventRequest(
                event=task_event(
                    run, node, TASK.PHASE_RUNNING, logs=[core_exec.TaskLog(name="l", uri="u")]
                )
            )
        )
        await send_t(
            ingest_pb2.CreateTaskEventRequest(event=task_event(run, node, TASK.PHASE_QUEUED))
        )  # out of order
        await send_t(
            ingest_pb2.CreateTaskEventRequest(
                event=task_event(run, node, TASK.PHASE_SUCCEEDED, output_uri="file:///x")
            )
        )
    await send_n(
        ingest_pb2.CreateNodeEventRequest(event=node_event(run, "n0", NODE.PHASE_SUCCEEDED))
    )
    await send_n(
        ingest_pb2.CreateNodeEventRequest(
            event=node_event(run, "n1", NODE.PHASE_FAILED, error=core_exec.ExecutionError(code="E"))
        )
    )
    await admin.stub.CreateWorkflowEvent(
        workflow_event(run, WF.PHASE_FAILED, error=core_exec.ExecutionError(code="E"))
    )
    async with admin.app.ctx.pool.acquire() as conn:
        rebuilt = await rebuild_execution(conn, _eid(run))
        stored = await rebuilt.stored(conn)
    assert rebuilt.closure == stored.closure
    assert rebuilt.nodes == stored.nodes
    assert rebuilt.tasks == stored.tasks
    assert len(rebuilt.nodes) == len(rebuilt.tasks) == 2
    assert rebuilt.closure.phase == WF.PHASE_FAILED
