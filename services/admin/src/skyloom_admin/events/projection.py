"""The pure core of event ingestion: the guard's answer and how an event changes a projection.

Both the live apply path (:mod:`.store`) and the rebuild from the event log (:mod:`.rebuild`)
call these functions, in the same order, so a projection rebuilt from the log equals the one
kept incrementally. Nothing here does I/O.

Per entity: ``decide_*`` answers the event (libs/core's phase guard) and says whether it also
moves the projection (``supersedes``: a higher rank, or the same phase with a higher phase
version; an accepted out-of-order event is stored in the log but does not move it). ``fold_*``
applies an accepted event to the projection message in place; ``moves`` selects between
merging only what accumulates (task log links) and applying everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import duration_pb2, timestamp_pb2

from skyloom_core import phases
from skyloom_idl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.core import execution_pb2 as core_exec
from skyloom_idl.event import event_pb2

__all__ = [
    "ADMIN_PRODUCER",
    "Verdict",
    "decide_node",
    "decide_task",
    "decide_workflow",
    "fold_node",
    "fold_task",
    "fold_workflow",
]

WF = core_exec.WorkflowExecution.Phase
NODE = core_exec.NodeExecution.Phase
TASK = core_exec.TaskExecution.Phase
# Events admin writes itself (TerminateExecution, queued executions) carry this producer prefix;
# what follows the colon is the principal who asked.
ADMIN_PRODUCER = "admin:"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's decision, and whether an accepted event moves the projection."""

    decision: phases.Decision
    moves: bool


def decide_workflow(current: int | None, new: int) -> Verdict:
    decision = phases.check_workflow_event(current, new)
    if not decision.accepted:
        return Verdict(decision, False)
    cur = current or WF.PHASE_UNSPECIFIED
    moves = (
        phases.supersedes(phases.workflow_rank(cur), cur, 0, phases.workflow_rank(new), new, 0)
        or cur == WF.PHASE_UNSPECIFIED
    )
    return Verdict(decision, moves)


def decide_node(current: int | None, new: int) -> Verdict:
    decision = phases.check_node_event(current, new)
    if not decision.accepted:
        return Verdict(decision, False)
    cur = current or NODE.PHASE_UNSPECIFIED
    moves = phases.supersedes(phases.node_rank(cur), cur, 0, phases.node_rank(new), new, 0)
    return Verdict(decision, moves or cur == NODE.PHASE_UNSPECIFIED)


def decide_task(current: int | None, current_version: int, new: int, new_version: int) -> Verdict:
    decision = phases.check_task_event(current, current_version, new, new_version)
    if not decision.accepted:
        return Verdict(decision, False)
    cur = current or TASK.PHASE_UNSPECIFIED
    moves = phases.supersedes(
        phases.task_rank(cur), cur, current_version, phases.task_rank(new), new, new_version
    )
    return Verdict(decision, moves or cur == TASK.PHASE_UNSPECIFIED)


def _duration(
    start: timestamp_pb2.Timestamp, end: timestamp_pb2.Timestamp
) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromNanoseconds(max(end.ToNanoseconds() - start.ToNanoseconds(), 0))
    return out


def fold_workflow(
    closure: execution_pb2.ExecutionClosure, event: event_pb2.WorkflowExecutionEvent
) -> None:
    """Apply an accepted, superseding workflow event to ``closure``."""
    closure.phase = event.phase
    closure.phase_reason = event.reason
    if event.HasField("occurred_at"):
        closure.updated_at.CopyFrom(event.occurred_at)
        if event.phase == WF.PHASE_RUNNING and not closure.HasField("started_at"):
            closure.started_at.CopyFrom(event.occurred_at)
    kind = event.WhichOneof("output_result")
    if kind == "output_uri":
        closure.outputs_uri = event.output_uri
    elif kind == "output_data":
        closure.outputs.CopyFrom(event.output_data)
    elif kind == "error":
        closure.error.CopyFrom(event.error)
    if event.phase == WF.PHASE_ABORTING and event.producer_id.startswith(ADMIN_PRODUCER):
        closure.abort_metadata.CopyFrom(
            execution_pb2.AbortMetadata(
                cause=event.reason, principal=event.producer_id[len(ADMIN_PRODUCER) :]
            )
        )
    if phases.is_terminal_workflow(event.phase) and event.HasField("occurred_at"):
        start = closure.started_at if closure.HasField("started_at") else closure.created_at
        closure.duration.CopyFrom(_duration(start, event.occurred_at))


def new_node(event: event_pb2.NodeExecutionEvent) -> node_execution_pb2.NodeExecution:
    """The projection of a node seen for the first time (before folding its first event)."""
    node = node_execution_pb2.NodeExecution()
    node.id.CopyFrom(event.id)
    node.closure.phase = NODE.PHASE_UNSPECIFIED
    if event.HasField("occurred_at"):
        node.closure.created_at.CopyFrom(event.occurred_at)
    meta = node.metadata
    meta.spec_node_id = event.spec_node_id or event.id.node_id.rsplit(".", 1)[-1]
    meta.retry_group = event.retry_group
    meta.parent_node_id = event.parent_node_metadata.node_id
    return node


def fold_node(node: node_execution_pb2.NodeExecution, event: event_pb2.NodeExecutionEvent) -> None:
    """Apply an accepted, superseding node event to ``node``."""
    closure, meta = node.closure, node.metadata
    closure.phase = event.phase
    if event.input_uri:
        node.input_uri = event.input_uri
    if event.node_name:
        meta.name = event.node_name
    meta.is_parent_node = meta.is_parent_node or event.is_parent
    meta.is_dynamic = meta.is_dynamic or event.is_dynamic
    meta.is_array = meta.is_array or event.is_array
    if event.HasField("occurred_at"):
        closure.updated_at.CopyFrom(event.occurred_at)
        if event.phase == NODE.PHASE_RUNNING and not closure.HasField("started_at"):
            closure.started_at.CopyFrom(event.occurred_at)
        if phases.is_terminal_node(event.phase):
            start = closure.started_at if closure.HasField("started_at") else closure.created_at
            closure.duration.CopyFrom(_duration(start, event.occurred_at))
    kind = event.WhichOneof("output_result")
    if kind == "output_uri":
        closure.outputs_uri = event.output_uri
    elif kind == "output_data":
        closure.outputs.CopyFrom(event.output_data)
    elif kind == "error":
        closure.error.CopyFrom(event.error)
    target = event.WhichOneof("target_metadata")
    if target == "task_node_metadata":
        closure.task_node_metadata.CopyFrom(event.task_node_metadata)
    elif target == "workflow_node_metadata":
        closure.workflow_node_metadata.CopyFrom(event.workflow_node_metadata)
    if event.HasField("dynamic_workflow"):
        closure.dynamic_workflow.CopyFrom(event.dynamic_workflow)
    if event.deck_uri:
        closure.deck_uri = event.deck_uri


def new_task(event: event_pb2.TaskExecutionEvent) -> task_execution_pb2.TaskExecution:
    """The projection of a task attempt seen for the first time."""
    task = task_execution_pb2.TaskExecution()
    task.id.task_id.CopyFrom(event.task_id)
    task.id.node_execution_id.CopyFrom(event.parent_node_execution_id)
    task.id.retry_attempt = event.retry_attempt
    if event.HasField("occurred_at"):
        task.closure.created_at.CopyFrom(event.occurred_at)
    return task


def merge_logs(task: task_execution_pb2.TaskExecution, event: event_pb2.TaskExecutionEvent) -> None:
    """Log links merge by name over every accepted event of the attempt (Flyte's rule)."""
    by_name = {log.name: i for i, log in enumerate(task.closure.logs)}
    for log in event.logs:
        if log.name in by_name:
            task.closure.logs[by_name[log.name]].CopyFrom(log)
        else:
            by_name[log.name] = len(task.closure.logs)
            task.closure.logs.add().CopyFrom(log)


def fold_task(
    task: task_execution_pb2.TaskExecution, event: event_pb2.TaskExecutionEvent, *, moves: bool
) -> None:
    """Apply an accepted task event: logs always merge; the rest only when it ``moves``."""
    merge_logs(task, event)
    if not moves:
        return
    closure = task.closure
    closure.phase = event.phase
    closure.phase_version = event.phase_version
    if event.input_uri:
        task.input_uri = event.input_uri
    if event.task_type:
        closure.task_type = event.task_type
    if event.HasField("executor"):
        closure.executor.CopyFrom(event.executor)
    if event.HasField("custom_info"):
        closure.custom_info.CopyFrom(event.custom_info)
    if event.reason:
        closure.reason = event.reason
        reason = closure.reasons.add(message=event.reason)
        if event.HasField("occurred_at"):
            reason.occurred_at.CopyFrom(event.occurred_at)
    if event.HasField("occurred_at"):
        closure.updated_at.CopyFrom(event.occurred_at)
        if event.phase == TASK.PHASE_RUNNING and not closure.HasField("started_at"):
            closure.started_at.CopyFrom(event.occurred_at)
        if phases.is_terminal_task(event.phase):
            start = closure.started_at if closure.HasField("started_at") else closure.created_at
            closure.duration.CopyFrom(_duration(start, event.occurred_at))
    kind = event.WhichOneof("output_result")
    if kind == "output_uri":
        closure.outputs_uri = event.output_uri
    elif kind == "output_data":
        closure.outputs.CopyFrom(event.output_data)
    elif kind == "error":
        closure.error.CopyFrom(event.error)
