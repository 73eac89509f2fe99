"""Applying events to Postgres: the event log plus the execution, node and task projections.

One function per event kind, each run inside the caller's transaction (the consumer's batch
transaction, or an RPC's own), each taking the execution row's lock first (``FOR UPDATE``), so
events of one execution apply one at a time in a well-defined order and the log's ``seq`` is
that order. Then:

1. the guard (:mod:`.projection`) decides against the stored projection; a rejected event
   whose id is already in the log is ``ALREADY_EXISTS`` (a re-send, even after a terminal
   phase), otherwise the guard's answer is raised (``AlreadyExists``/``FailedPrecondition``);
2. the event is appended to the log (``ON CONFLICT (event_id) DO NOTHING``: a repeat is
   ``ALREADY_EXISTS``), with ``applied`` saying whether it moved the projection;
3. the projection is updated, and a workflow reaching a terminal phase runs the terminal hooks
   (notifications, starting queued executions) in the same transaction.

Nothing is written when an error is raised, so the caller's transaction stays usable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from skyloom_admin.events import projection
from skyloom_admin.events.rows import execution_from_row, to_datetime
from skyloom_common.db import Connection
from skyloom_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from skyloom_core import phases
from skyloom_idl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.core import identifier_pb2
from skyloom_idl.event import event_pb2

__all__ = ["NODE", "TASK", "WORKFLOW", "EventStore", "TerminalHook", "raise_decision"]

WORKFLOW, NODE, TASK = 1, 2, 3

_LOCK_EXECUTION = (
    "SELECT project, domain, name, phase, spec, closure, seq FROM executions"
    " WHERE project = $1 AND domain = $2 AND name = $3 FOR UPDATE"
)
_LOCK_ONLY = (
    "SELECT true FROM executions WHERE project = $1 AND domain = $2 AND name = $3 FOR UPDATE"
)
_LOGGED = "SELECT true FROM execution_events WHERE event_id = $1::uuid"
APPEND = (
    "INSERT INTO execution_events (event_id, project, domain, execution_name, kind, node_id,"
    " retry_group, retry_attempt, phase, phase_version, applied, occurred_at, payload)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING seq"
)
UPDATE_EXECUTION = (
    "UPDATE executions SET phase = $4, closure = $5, updated_at = now(),"
    " started_at = coalesce(started_at, $6), ended_at = CASE WHEN $7 THEN now() END"
    " WHERE project = $1 AND domain = $2 AND name = $3"
)
UPSERT_NODE = (
    "INSERT INTO node_executions AS n (project, domain, execution_name, node_id,"
    " retry_group, parent_node_id, phase, cache_status, input_uri, closure, metadata,"
    " started_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
    " CASE WHEN $13 THEN now() END) ON CONFLICT (project, domain, execution_name,"
    " node_id, retry_group) DO UPDATE SET phase = excluded.phase,"
    " cache_status = excluded.cache_status, input_uri = excluded.input_uri,"
    " closure = excluded.closure, metadata = excluded.metadata, updated_at = now(),"
    " started_at = coalesce(n.started_at, excluded.started_at),"
    " ended_at = excluded.ended_at"
)
UPSERT_TASK = (
    "INSERT INTO task_executions AS t (project, domain, execution_name, node_id,"
    " retry_attempt, retry_group, task_project, task_domain, task_name, task_version,"
    " phase, phase_version, input_uri, closure, started_at) VALUES ($1, $2, $3, $4, $5,"
    " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (project, domain,"
    " execution_name, node_id, retry_attempt) DO UPDATE SET phase = excluded.phase,"
    " phase_version = excluded.phase_version, input_uri = excluded.input_uri,"
    " closure = excluded.closure, updated_at = now(),"
    " started_at = coalesce(t.started_at, excluded.started_at)"
)


class TerminalHook(Protocol):
    """Runs in the event's transaction when an execution reaches a terminal phase.

    Must write only through ``conn``; it may run more than once for one event (a replayed
    batch) but commits at most once, with the event."""

    async def __call__(
        self,
        conn: Connection,
        execution: execution_pb2.Execution,
        event: event_pb2.WorkflowExecutionEvent,
    ) -> None: ...


def raise_decision(decision: phases.Decision, what: str) -> None:
    current = str(decision.current_phase or 0)
    if decision.outcome is phases.Outcome.ALREADY_EXISTS:
        raise AlreadyExists(
            f"{what}: {decision.reason}",
            reason="EVENT_ALREADY_EXISTS",
            metadata={"current_phase": current},
        )
    if decision.outcome is phases.Outcome.FAILED_PRECONDITION:
        reason = (
            "ALREADY_IN_TERMINAL_STATE"
            if decision.already_in_terminal_state
            else "INCOMPATIBLE_PHASE_TRANSITION"
        )
        raise FailedPrecondition(
            f"{what}: {decision.reason}", reason=reason, metadata={"current_phase": current}
        )
    raise InvalidArgument.for_field("event.phase", decision.reason)


def _duplicate(what: str, event_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"{what}: event {event_id} was already recorded", reason="EVENT_ALREADY_EXISTS"
    )


class EventStore:
    """Applies events through a connection; see the module docstring for the sequence."""

    def __init__(self, terminal_hooks: Sequence[TerminalHook] = ()) -> None:
        self._hooks = list(terminal_hooks)

    def add_terminal_hook(self, hook: TerminalHook) -> None:
        self._hooks.append(hook)

    @property
    def terminal_hooks(self) -> Sequence[TerminalHook]:
        return tuple(self._hooks)

    async def _lock(
        self, conn: Connection, execution: identifier_pb2.WorkflowExecutionIdentifier
    ) -> execution_pb2.Execution:
        row = await conn.fetchrow(
            _LOCK_EXECUTION, execution.project, execution.domain, execution.name
        )
        if row is None:
            raise NotFound(
                f"execution {execution.project}/{execution.domain}/{execution.name} not found",
                resource=f"execution:{execution.project}/{execution.domain}/{execution.name}",
            )
        return execution_from_row(row)

    async def _lock_only(
        self, conn: Connection, execution: identifier_pb2.WorkflowExecutionIdentifier
    ) -> None:
        """Lock the execution row without reading it (node and task events)."""
        e = execution
        if await conn.fetchval(_LOCK_ONLY, e.project, e.domain, e.name) is None:
            raise NotFound(
                f"execution {e.project}/{e.domain}/{e.name} not found",
                resource=f"execution:{e.project}/{e.domain}/{e.name}",
            )

    async def _reject(
        self, conn: Connection, verdict: projection.Verdict, event_id: str, what: str
    ) -> None:
        if await conn.fetchval(_LOGGED, event_id):
            raise _duplicate(what, event_id)
        raise_decision(verdict.decision, what)

    async def apply_workflow(
        self, conn: Connection, event: event_pb2.WorkflowExecutionEvent
    ) -> bool:
        """Apply a (validated) workflow event; returns whether it moved the projection."""
        e = event.execution_id
        execution = await self._lock(conn, e)
        verdict = projection.decide_workflow(execution.closure.phase, event.phase)
        what = f"execution {e.project}/{e.domain}/{e.name}"
        if not verdict.decision.accepted:
            await self._reject(conn, verdict, event.event_id, what)
        occurred = to_datetime(event.occurred_at) if event.HasField("occurred_at") else None
        seq = await conn.fetchval(
            APPEND, event.event_id, e.project, e.domain, e.name, WORKFLOW, "", 0, 0,
            event.phase, 0, verdict.moves, occurred, event.SerializeToString(),
        )  # fmt: skip
        if seq is None:
            raise _duplicate(what, event.event_id)
        if not verdict.moves:
            return False
        closure = execution.closure
        closure.ClearField("duration")
        projection.fold_workflow(closure, event)
        terminal = phases.is_terminal_workflow(event.phase)
        await conn.execute(
            UPDATE_EXECUTION,
            e.project, e.domain, e.name, event.phase, closure.SerializeToString(),
            to_datetime(closure.started_at) if closure.HasField("started_at") else None, terminal,
        )  # fmt: skip
        if terminal:
            for hook in self._hooks:
                await hook(conn, execution, event)
        return True

    async def apply_node(self, conn: Connection, event: event_pb2.NodeExecutionEvent) -> bool:
        """Apply a (validated) node event; returns whether it moved the projection."""
        e = event.id.execution_id
        await self._lock_only(conn, e)
        row = await conn.fetchrow(
            "SELECT phase, closure, metadata, input_uri FROM node_executions WHERE project = $1"
            " AND domain = $2 AND execution_name = $3 AND node_id = $4 AND retry_group = $5",
            e.project, e.domain, e.name, event.id.node_id, event.retry_group,
        )  # fmt: skip
        what = f"node {event.id.node_id} of {e.project}/{e.domain}/{e.name}"
        verdict = projection.decide_node(row["phase"] if row else None, event.phase)
        if not verdict.decision.accepted:
            await self._reject(conn, verdict, event.event_id, what)
        occurred = to_datetime(event.occurred_at) if event.HasField("occurred_at") else None
        seq = await conn.fetchval(
            APPEND, event.event_id, e.project, e.domain, e.name, NODE, event.id.node_id,
            event.retry_group, 0, event.phase, 0, verdict.moves, occurred,
            event.SerializeToString(),
        )  # fmt: skip
        if seq is None:
            raise _duplicate(what, event.event_id)
        if not verdict.moves:
            return False
        if row is None:
            node = projection.new_node(event)
        else:
            node = node_execution_pb2.NodeExecution(id=event.id, input_uri=row["input_uri"])
            node.closure.ParseFromString(row["closure"])
            node.metadata.ParseFromString(row["metadata"])
        node.closure.ClearField("duration")
        projection.fold_node(node, event)
        c = node.closure
        await conn.execute(
            UPSERT_NODE,
            e.project, e.domain, e.name, event.id.node_id, event.retry_group,
            node.metadata.parent_node_id, event.phase, c.task_node_metadata.cache_status,
            node.input_uri, c.SerializeToString(), node.metadata.SerializeToString(),
            to_datetime(c.started_at) if c.HasField("started_at") else None,
            phases.is_terminal_node(event.phase),
        )  # fmt: skip
        return True

    async def apply_task(self, conn: Connection, event: event_pb2.TaskExecutionEvent) -> bool:
        """Apply a (validated) task event; returns whether it moved the projection."""
        node_id = event.parent_node_execution_id
        e = node_id.execution_id
        await self._lock_only(conn, e)
        row = await conn.fetchrow(
            "SELECT phase, phase_version, closure, input_uri, is_parent FROM task_executions"
            " WHERE project = $1 AND domain = $2 AND execution_name = $3 AND node_id = $4"
            " AND retry_attempt = $5",
            e.project, e.domain, e.name, node_id.node_id, event.retry_attempt,
        )  # fmt: skip
        what = f"task attempt {event.retry_attempt} of node {node_id.node_id} of {e.name}"
        verdict = projection.decide_task(
            row["phase"] if row else None,
            row["phase_version"] if row else 0,
            event.phase,
            event.phase_version,
        )
        if not verdict.decision.accepted:
            await self._reject(conn, verdict, event.event_id, what)
        occurred = to_datetime(event.occurred_at) if event.HasField("occurred_at") else None
        seq = await conn.fetchval(
            APPEND, event.event_id, e.project, e.domain, e.name, TASK, node_id.node_id,
            event.retry_group, event.retry_attempt, event.phase, event.phase_version,
            verdict.moves, occurred, event.SerializeToString(),
        )  # fmt: skip
        if seq is None:
            raise _duplicate(what, event.event_id)
        if row is None:
            task = projection.new_task(event)
        else:
            task = task_execution_pb2.TaskExecution(
                input_uri=row["input_uri"], is_parent=row["is_parent"]
            )
            task.id.task_id.CopyFrom(event.task_id)
            task.id.node_execution_id.CopyFrom(node_id)
            task.id.retry_attempt = event.retry_attempt
            task.closure.ParseFromString(row["closure"])
        if verdict.moves:
            task.closure.ClearField("duration")
        projection.fold_task(task, event, moves=verdict.moves)
        c, t = task.closure, event.task_id
        await conn.execute(
            UPSERT_TASK,
            e.project, e.domain, e.name, node_id.node_id, event.retry_attempt, event.retry_group,
            t.project, t.domain, t.name, t.version, c.phase, c.phase_version, task.input_uri,
            c.SerializeToString(),
            to_datetime(c.started_at) if c.HasField("started_at") else None,
        )  # fmt: skip
        return verdict.moves
