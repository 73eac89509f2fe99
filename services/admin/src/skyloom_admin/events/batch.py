"""Applying a batch of events set-based: the same result as :mod:`.store`, in a few statements.

For the consumer's batch transaction (``BatchHandler``). Per batch:

1. lock every execution the batch names, in one statement ordered by key (two batches that
   share executions lock them in the same order, so they cannot deadlock); a missing
   execution raises ``NotFound``;
2. read the event ids already in the log, and the node and task projections the batch
   touches, in one statement each;
3. in delivery order, in memory: skip an event already logged (a duplicate), run the guard
   (:mod:`.projection`) against the projection as the earlier events left it, fold accepted
   events; this is exactly the per-event sequence of :mod:`.store`;
4. write the log rows, then each changed projection once, with ``executemany``;
5. run the terminal hooks for each workflow event that reached a terminal phase, in order.

A guard answer that the per-event path would raise as a domain error (duplicate, rejected) is
returned as that event's outcome. Anything the per-event path would turn into a poison message
(an invalid phase) is raised, so the consumer falls back to applying the batch one message at a
time and isolates it. Hooks run after every write of the batch instead of right after their
event's; they see the execution as the event left it and write only through ``conn``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from skyloom_admin.events import projection
from skyloom_admin.events.rows import execution_from_row, to_datetime
from skyloom_admin.events.store import (
    APPEND,
    NODE,
    TASK,
    UPDATE_EXECUTION,
    UPSERT_NODE,
    UPSERT_TASK,
    WORKFLOW,
    EventStore,
    raise_decision,
)
from skyloom_common.db import Connection
from skyloom_common.errors import NotFound
from skyloom_core import phases
from skyloom_idl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.event import event_pb2

__all__ = ["APPLIED", "DUPLICATE", "REJECTED", "apply_events"]

Event = (
    event_pb2.WorkflowExecutionEvent | event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent
)
ExecKey = tuple[str, str, str]
EntityKey = tuple[str, str, str, str, int]

APPLIED, DUPLICATE, REJECTED = "applied", "duplicate", "rejected"

_LOCK = (
    "SELECT x.project, x.domain, x.name, x.phase, x.spec, x.closure, x.seq FROM executions x"
    " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(p, d, n)"
    " ON x.project = k.p AND x.domain = k.d AND x.name = k.n"
    " ORDER BY x.project, x.domain, x.name FOR UPDATE OF x"
)
_LOGGED = "SELECT event_id::text FROM execution_events WHERE event_id = ANY($1::uuid[])"
_NODES = (
    "SELECT x.project, x.domain, x.execution_name, x.node_id, x.retry_group, x.phase,"
    " x.closure, x.metadata, x.input_uri FROM node_executions x"
    " JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS k(p, d, n, i, r)"
    " ON x.project = k.p AND x.domain = k.d AND x.execution_name = k.n AND x.node_id = k.i"
    " AND x.retry_group = k.r"
)
_TASKS = (
    "SELECT x.project, x.domain, x.execution_name, x.node_id, x.retry_attempt, x.phase,"
    " x.phase_version, x.closure, x.input_uri, x.is_parent FROM task_executions x"
    " JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS k(p, d, n, i, r)"
    " ON x.project = k.p AND x.domain = k.d AND x.execution_name = k.n AND x.node_id = k.i"
    " AND x.retry_attempt = k.r"
)


@dataclass
class _Node:
    phase: int | None
    node: node_execution_pb2.NodeExecution | None


@dataclass
class _Task:
    phase: int | None
    version: int
    task: task_execution_pb2.TaskExecution | None
    retry_group: int = 0


@dataclass
class _State:
    executions: dict[ExecKey, execution_pb2.Execution | None]
    exec_rows: dict[ExecKey, asyncpg.Record]
    nodes: dict[EntityKey, _Node]
    tasks: dict[EntityKey, _Task]
    logged: set[str]
    log_rows: list[tuple[object, ...]] = field(default_factory=list)
    dirty_execs: dict[ExecKey, bool] = field(default_factory=dict)  # key -> terminal
    dirty_nodes: set[EntityKey] = field(default_factory=set)
    dirty_tasks: set[EntityKey] = field(default_factory=set)
    terminal: list[tuple[execution_pb2.Execution, event_pb2.WorkflowExecutionEvent]] = field(
        default_factory=list
    )


def _exec_key(event: Event) -> ExecKey:
    if isinstance(event, event_pb2.WorkflowExecutionEvent):
        e = event.execution_id
    elif isinstance(event, event_pb2.NodeExecutionEvent):
        e = event.id.execution_id
    else:
        e = event.parent_node_execution_id.execution_id
    return (e.project, e.domain, e.name)


def _node_key(event: event_pb2.NodeExecutionEvent) -> EntityKey:
    e = event.id.execution_id
    return (e.project, e.domain, e.name, event.id.node_id, event.retry_group)


def _task_key(event: event_pb2.TaskExecutionEvent) -> EntityKey:
    n = event.parent_node_execution_id
    e = n.execution_id
    return (e.project, e.domain, e.name, n.node_id, event.retry_attempt)


def _columns(keys: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    return [[k[i] for k in keys] for i in range(width)]


def _occurred(event: Event) -> datetime | None:
    return to_datetime(event.occurred_at) if event.HasField("occurred_at") else None


async def _load(conn: Connection, events: Sequence[Event]) -> _State:
    exec_keys = sorted({_exec_key(ev) for ev in events})
    rows = await conn.fetch(_LOCK, *_columns(exec_keys, 3))
    exec_rows: dict[ExecKey, asyncpg.Record] = {
        (r["project"], r["domain"], r["name"]): r for r in rows
    }
    for p, d, n in exec_keys:
        if (p, d, n) not in exec_rows:
            raise NotFound(f"execution {p}/{d}/{n} not found", resource=f"execution:{p}/{d}/{n}")
    ids = [str(uuid.UUID(ev.event_id)) for ev in events]
    logged = {r[0] for r in await conn.fetch(_LOGGED, ids)}
    node_keys = sorted(
        {_node_key(ev) for ev in events if isinstance(ev, event_pb2.NodeExecutionEvent)}
    )
    nodes: dict[EntityKey, _Node] = {k: _Node(None, None) for k in node_keys}
    if node_keys:
        for r in await conn.fetch(_NODES, *_columns(node_keys, 5)):
            key = (r["project"], r["domain"], r["execution_name"], r["node_id"], r["retry_group"])
            node = node_execution_pb2.NodeExecution(input_uri=r["input_uri"])
            node.closure.ParseFromString(r["closure"])
            node.metadata.ParseFromString(r["metadata"])
            nodes[key] = _Node(r["phase"], node)
    task_keys = sorted(
        {_task_key(ev) for ev in events if isinstance(ev, event_pb2.TaskExecutionEvent)}
    )
    tasks: dict[EntityKey, _Task] = {k: _Task(None, 0, None) for k in task_keys}
    if task_keys:
        for r in await conn.fetch(_TASKS, *_columns(task_keys, 5)):
            key = (r["project"], r["domain"], r["execution_name"], r["node_id"], r["retry_attempt"])
            task = task_execution_pb2.TaskExecution(
                input_uri=r["input_uri"], is_parent=r["is_parent"]
            )
            task.closure.ParseFromString(r["closure"])
            tasks[key] = _Task(r["phase"], r["phase_version"], task)
    return _State(dict.fromkeys(exec_keys), exec_rows, nodes, tasks, logged)


def _refused(verdict: projection.Verdict) -> str:
    """The outcome of an event the guard refused; raises where the per-event path poisons."""
    if verdict.decision.outcome is phases.Outcome.ALREADY_EXISTS:
        return DUPLICATE
    if verdict.decision.outcome is phases.Outcome.FAILED_PRECONDITION:
        return REJECTED
    raise_decision(verdict.decision, "event")
    raise AssertionError("unreachable")


def _workflow(state: _State, event: event_pb2.WorkflowExecutionEvent) -> str:
    key = _exec_key(event)
    execution = state.executions[key]
    if execution is None:
        execution = state.executions[key] = execution_from_row(state.exec_rows[key])
    verdict = projection.decide_workflow(execution.closure.phase, event.phase)
    if not verdict.decision.accepted:
        return _refused(verdict)
    state.log_rows.append((
        event.event_id, *key, WORKFLOW, "", 0, 0, event.phase, 0, verdict.moves,
        _occurred(event), event.SerializeToString(),
    ))  # fmt: skip
    if verdict.moves:
        execution.closure.ClearField("duration")
        projection.fold_workflow(execution.closure, event)
        terminal = phases.is_terminal_workflow(event.phase)
        state.dirty_execs[key] = terminal
        if terminal:
            state.terminal.append((execution, event))
    return APPLIED


def _node(state: _State, event: event_pb2.NodeExecutionEvent) -> str:
    key = _node_key(event)
    entry = state.nodes[key]
    verdict = projection.decide_node(entry.phase, event.phase)
    if not verdict.decision.accepted:
        return _refused(verdict)
    state.log_rows.append((
        event.event_id, *key[:3], NODE, event.id.node_id, event.retry_group, 0, event.phase, 0,
        verdict.moves, _occurred(event), event.SerializeToString(),
    ))  # fmt: skip
    if verdict.moves:
        if entry.node is None:
            entry.node = projection.new_node(event)
        entry.node.closure.ClearField("duration")
        projection.fold_node(entry.node, event)
        entry.phase = event.phase
        state.dirty_nodes.add(key)
    return APPLIED


def _task(state: _State, event: event_pb2.TaskExecutionEvent) -> str:
    key = _task_key(event)
    entry = state.tasks[key]
    verdict = projection.decide_task(entry.phase, entry.version, event.phase, event.phase_version)
    if not verdict.decision.accepted:
        return _refused(verdict)
    n = event.parent_node_execution_id
    state.log_rows.append((
        event.event_id, *key[:3], TASK, n.node_id, event.retry_group, event.retry_attempt,
        event.phase, event.phase_version, verdict.moves, _occurred(event),
        event.SerializeToString(),
    ))  # fmt: skip
    if entry.task is None:
        entry.task = projection.new_task(event)
        entry.retry_group = event.retry_group
    if verdict.moves:
        entry.task.closure.ClearField("duration")
    projection.fold_task(entry.task, event, moves=verdict.moves)
    entry.phase, entry.version = entry.task.closure.phase, entry.task.closure.phase_version
    state.dirty_tasks.add(key)
    return APPLIED


async def _write(conn: Connection, state: _State) -> None:
    if state.log_rows:
        await conn.executemany(APPEND, state.log_rows)
    execs = []
    for key, terminal in state.dirty_execs.items():
        execution = state.executions[key]
        assert execution is not None
        c = execution.closure
        started = to_datetime(c.started_at) if c.HasField("started_at") else None
        execs.append((*key, c.phase, c.SerializeToString(), started, terminal))
    if execs:
        await conn.executemany(UPDATE_EXECUTION, execs)
    nodes = []
    for nkey in sorted(state.dirty_nodes):
        node = state.nodes[nkey].node
        assert node is not None
        nc = node.closure
        nodes.append((
            *nkey, node.metadata.parent_node_id, nc.phase, nc.task_node_metadata.cache_status,
            node.input_uri, nc.SerializeToString(), node.metadata.SerializeToString(),
            to_datetime(nc.started_at) if nc.HasField("started_at") else None,
            phases.is_terminal_node(nc.phase),
        ))  # fmt: skip
    if nodes:
        await conn.executemany(UPSERT_NODE, nodes)
    tasks = []
    for tkey in sorted(state.dirty_tasks):
        entry = state.tasks[tkey]
        task = entry.task
        assert task is not None
        tc, t = task.closure, task.id.task_id
        tasks.append((
            *tkey, entry.retry_group, t.project, t.domain, t.name, t.version, tc.phase,
            tc.phase_version, task.input_uri, tc.SerializeToString(),
            to_datetime(tc.started_at) if tc.HasField("started_at") else None,
        ))  # fmt: skip
    if tasks:
        await conn.executemany(UPSERT_TASK, tasks)


async def apply_events(conn: Connection, store: EventStore, events: Sequence[Event]) -> list[str]:
    """Apply validated ``events`` in order; returns each one's outcome (APPLIED, DUPLICATE,
    REJECTED). Raises where the per-event path would raise a non-guard error."""
    state = await _load(conn, events)
    outcomes = []
    for event in events:
        if str(uuid.UUID(event.event_id)) in state.logged:
            outcomes.append(DUPLICATE)
            continue
        if isinstance(event, event_pb2.WorkflowExecutionEvent):
            outcome = _workflow(state, event)
        elif isinstance(event, event_pb2.NodeExecutionEvent):
            outcome = _node(state, event)
        else:
            outcome = _task(state, event)
        if outcome == APPLIED:
            state.logged.add(str(uuid.UUID(event.event_id)))
        outcomes.append(outcome)
    await _write(conn, state)
    for execution, event in state.terminal:
        for hook in store.terminal_hooks:
            await hook(conn, execution, event)
    return outcomes
