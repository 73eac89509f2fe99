"""Rebuilding an execution's state from its event log (the log is the source of truth).

:func:`rebuild_execution` replays the execution's logged events in ``seq`` order through the
same pure functions the live path uses (:mod:`.projection`), starting from the execution's
creation-time closure (what the create wrote, before any event), and returns the closure and
the node and task projections. :meth:`Rebuilt.stored` reads the projections kept
incrementally, in the same shape, so a test (or an operator's consistency check) can compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skyloom_admin.events import projection
from skyloom_admin.events.store import NODE, TASK, WORKFLOW
from skyloom_admin.nodes.manager import node_from_row, task_from_row
from skyloom_common.db import Connection
from skyloom_common.errors import NotFound
from skyloom_idl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.core import identifier_pb2
from skyloom_idl.event import event_pb2

__all__ = ["Rebuilt", "initial_closure", "rebuild_execution"]

NodeKey = tuple[str, int]
TaskKey = tuple[str, int]


@dataclass
class Rebuilt:
    execution_id: identifier_pb2.WorkflowExecutionIdentifier
    closure: execution_pb2.ExecutionClosure
    nodes: dict[NodeKey, node_execution_pb2.NodeExecution] = field(default_factory=dict)
    tasks: dict[TaskKey, task_execution_pb2.TaskExecution] = field(default_factory=dict)

    async def stored(self, conn: Connection) -> Rebuilt:
        """The incrementally kept projections of the same execution, as a :class:`Rebuilt`."""
        e = self.execution_id
        args = (e.project, e.domain, e.name)
        closure = execution_pb2.ExecutionClosure()
        closure.ParseFromString(
            await conn.fetchval(
                "SELECT closure FROM executions WHERE project = $1 AND domain = $2 AND name = $3",
                *args,
            )
        )
        out = Rebuilt(e, closure)
        for row in await conn.fetch(
            "SELECT node_id, retry_group, input_uri, closure, metadata FROM node_executions"
            " WHERE project = $1 AND domain = $2 AND execution_name = $3",
            *args,
        ):
            out.nodes[(row["node_id"], row["retry_group"])] = node_from_row(row, e)
        for row in await conn.fetch(
            "SELECT node_id, retry_attempt, task_project, task_domain, task_name, task_version,"
            " input_uri, closure, is_parent FROM task_executions WHERE project = $1"
            " AND domain = $2 AND execution_name = $3",
            *args,
        ):
            out.tasks[(row["node_id"], row["retry_attempt"])] = task_from_row(row, e)
        return out


def initial_closure(closure: execution_pb2.ExecutionClosure) -> execution_pb2.ExecutionClosure:
    """The closure as created: every field events change reset to its creation value."""
    out = execution_pb2.ExecutionClosure()
    out.CopyFrom(closure)
    out.phase = 0  # type: ignore[assignment]
    out.phase_reason = ""
    for name in ("started_at", "duration", "outputs_uri", "outputs", "error", "abort_metadata"):
        out.ClearField(name)
    out.updated_at.CopyFrom(out.created_at)
    return out


async def rebuild_execution(
    conn: Connection, e: identifier_pb2.WorkflowExecutionIdentifier
) -> Rebuilt:
    """Replay the log of ``e`` (see the module docstring)."""
    stored = await conn.fetchval(
        "SELECT closure FROM executions WHERE project = $1 AND domain = $2 AND name = $3",
        e.project, e.domain, e.name,
    )  # fmt: skip
    if stored is None:
        raise NotFound(f"execution {e.name} not found", resource=f"execution:{e.name}")
    current = execution_pb2.ExecutionClosure()
    current.ParseFromString(stored)
    out = Rebuilt(e, initial_closure(current))
    rows = await conn.fetch(
        "SELECT kind, payload FROM execution_events WHERE project = $1 AND domain = $2"
        " AND execution_name = $3 ORDER BY seq",
        e.project, e.domain, e.name,
    )  # fmt: skip
    for row in rows:
        if row["kind"] == WORKFLOW:
            _workflow(out, row["payload"])
        elif row["kind"] == NODE:
            _node(out, row["payload"])
        elif row["kind"] == TASK:
            _task(out, row["payload"])
    return out


def _workflow(out: Rebuilt, payload: bytes) -> None:
    event = event_pb2.WorkflowExecutionEvent()
    event.ParseFromString(payload)
    verdict = projection.decide_workflow(out.closure.phase, event.phase)
    if verdict.decision.accepted and verdict.moves:
        out.closure.ClearField("duration")
        projection.fold_workflow(out.closure, event)


def _node(out: Rebuilt, payload: bytes) -> None:
    event = event_pb2.NodeExecutionEvent()
    event.ParseFromString(payload)
    key = (event.id.node_id, event.retry_group)
    node = out.nodes.get(key)
    verdict = projection.decide_node(node.closure.phase if node else None, event.phase)
    if not (verdict.decision.accepted and verdict.moves):
        return
    if node is None:
        node = out.nodes[key] = projection.new_node(event)
    node.closure.ClearField("duration")
    projection.fold_node(node, event)


def _task(out: Rebuilt, payload: bytes) -> None:
    event = event_pb2.TaskExecutionEvent()
    event.ParseFromString(payload)
    key = (event.parent_node_execution_id.node_id, event.retry_attempt)
    task = out.tasks.get(key)
    verdict = projection.decide_task(
        task.closure.phase if task else None,
        task.closure.phase_version if task else 0,
        event.phase,
        event.phase_version,
    )
    if not verdict.decision.accepted:
        return
    if task is None:
        task = out.tasks[key] = projection.new_task(event)
    if verdict.moves:
        task.closure.ClearField("duration")
    projection.fold_task(task, event, moves=verdict.moves)
