"""Event builders: workflow, node and task execution events with deterministic ids.

Ids come from ``skyloom_core.ids.event_id`` (ADR 0040), so re-emitting an event after a crash
produces the same id and admin answers ``ALREADY_EXISTS``. ``occurred_at`` is the round's clock.
"""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from skyloom_core.ids import event_id
from skyloom_idl.admin import node_execution_pb2, task_execution_pb2
from skyloom_idl.core import catalog_pb2, execution_pb2, identifier_pb2, tasks_pb2
from skyloom_idl.event import event_pb2
from skyloom_propeller.commands import EmitEvent
from skyloom_propeller.context import NodeContext, Round
from skyloom_propeller.state import ErrorInfo


def _ts(now: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(round(now * 1e9))
    return ts


def _error(err: ErrorInfo) -> execution_pb2.ExecutionError:
    return execution_pb2.ExecutionError(
        code=err.code,
        message=err.message,
        kind=err.kind,  # type: ignore[arg-type]
        retryable=err.retryable,
        error_uri=err.uri,
    )


def workflow_event(
    rnd: Round, phase: int, *, outputs_uri: str = "", error: ErrorInfo | None = None
) -> None:
    exe = rnd.execution_id
    ev = event_pb2.WorkflowExecutionEvent(
        event_id=event_id(exe, phase),
        execution_id=exe,
        producer_id=rnd.config.producer_id,
        phase=phase,  # type: ignore[arg-type]
        occurred_at=_ts(rnd.now),
        reason=rnd.state.abort_cause if rnd.aborting else "",
    )
    if outputs_uri:
        ev.output_uri = outputs_uri
    elif error is not None:
        ev.error.CopyFrom(_error(error))
    rnd.emit(EmitEvent(ev))


def node_event(ctx: NodeContext, phase: int, reason: str = "") -> None:
    rnd, st = ctx.rnd, ctx.st
    node_exec = identifier_pb2.NodeExecutionIdentifier(
        node_id=ctx.path, execution_id=rnd.execution_id
    )
    group = ctx.scope.retry_group
    kind = ctx.node.WhichOneof("target")
    ev = event_pb2.NodeExecutionEvent(
        event_id=event_id(node_exec, phase, retry_attempt=group),
        id=node_exec,
        producer_id=rnd.config.producer_id,
        phase=phase,  # type: ignore[arg-type]
        occurred_at=_ts(rnd.now),
        input_uri=st.inputs_uri,
        spec_node_id=ctx.node.id,
        node_name=ctx.node.metadata.name or ctx.node.id,
        retry_group=group,
        is_parent=kind in ("branch_node", "array_node") or "futures" in st.detail,
        is_dynamic="futures" in st.detail,
        is_array=kind == "array_node",
        reason=reason,
    )
    if ctx.scope.parent_path:
        ev.parent_node_metadata.node_id = ctx.scope.parent_path
    if (
        phase
        in (
            execution_pb2.NodeExecution.PHASE_SUCCEEDED,
            execution_pb2.NodeExecution.PHASE_RECOVERED,
        )
        and st.outputs_uri
    ):
        ev.output_uri = st.outputs_uri
    elif st.error is not None and phase == execution_pb2.NodeExecution.PHASE_FAILED:
        ev.error.CopyFrom(_error(st.error))
    if kind == "workflow_node" and st.handle:  # a launch plan's child execution
        child = ev.workflow_node_metadata.execution_id
        child.project, child.domain, child.name = rnd.state.project, rnd.state.domain, st.handle
    if "compiled" in st.detail:
        ev.dynamic_workflow.compiled_workflow_uri = st.detail["compiled"]
        ev.dynamic_workflow.dynamic_job_spec_uri = st.detail.get("futures", "")
    if kind == "task_node" and st.cache_status:
        ev.task_node_metadata.CopyFrom(
            node_execution_pb2.TaskNodeMetadata(
                cache_status=catalog_pb2.CatalogCacheStatus.ValueType(st.cache_status)
            )
        )
    rnd.emit(EmitEvent(ev))


def task_event(
    ctx: NodeContext,
    task: tasks_pb2.TaskTemplate,
    *,
    node_path: str,
    retry_attempt: int,
    phase: int,
    inputs_uri: str,
    handle: str,
    outputs_uri: str = "",
    error: ErrorInfo | None = None,
    reason: str = "",
    logs: tuple[str, ...] = (),
) -> None:
    """A task attempt event; ``logs`` are log URIs (named by their file name)."""
    rnd = ctx.rnd
    node_exec = identifier_pb2.NodeExecutionIdentifier(
        node_id=node_path, execution_id=rnd.execution_id
    )
    entity = identifier_pb2.TaskExecutionIdentifier(
        task_id=task.id, node_execution_id=node_exec, retry_attempt=retry_attempt
    )
    ev = event_pb2.TaskExecutionEvent(
        event_id=event_id(entity, phase),
        task_id=task.id,
        parent_node_execution_id=node_exec,
        retry_attempt=retry_attempt,
        retry_group=ctx.scope.retry_group,
        producer_id=rnd.config.producer_id,
        phase=phase,  # type: ignore[arg-type]
        occurred_at=_ts(rnd.now),
        input_uri=inputs_uri,
        reason=reason,
        task_type=task.type,
        executor=task_execution_pb2.ExecutorInfo(backend="process", handle=handle),
    )
    if outputs_uri:
        ev.output_uri = outputs_uri
    elif error is not None:
        ev.error.CopyFrom(_error(error))
    for uri in logs:
        ev.logs.add(
            uri=uri,
            name=uri.rsplit("/", 1)[-1],
            message_format=execution_pb2.TaskLog.MESSAGE_FORMAT_TEXT,
        )
    rnd.emit(EmitEvent(ev))
