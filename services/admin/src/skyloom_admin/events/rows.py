"""Rows of the execution tables to API messages, and the small helpers the SQL needs."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from google.protobuf import duration_pb2, timestamp_pb2

from skyloom_core import phases
from skyloom_idl.admin import execution_pb2
from skyloom_idl.core import identifier_pb2

__all__ = [
    "EXECUTION_COLUMNS",
    "execution_from_row",
    "execution_lock_key",
    "timestamp",
    "to_datetime",
    "with_live_duration",
]

EXECUTION_COLUMNS = "project, domain, name, phase, spec, closure, seq"


def to_datetime(ts: timestamp_pb2.Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


def execution_lock_key(execution: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    return f"skyloom.execution:{execution.project}/{execution.domain}/{execution.name}"


def with_live_duration(
    closure: execution_pb2.ExecutionClosure, now: datetime
) -> execution_pb2.ExecutionClosure:
    """While an execution runs, its duration counts up to ``now`` (stored on terminal only)."""
    if closure.HasField("started_at") and not phases.is_terminal_workflow(closure.phase):
        elapsed = now - closure.started_at.ToDatetime(tzinfo=UTC)
        closure.duration.CopyFrom(duration_pb2.Duration())
        closure.duration.FromTimedelta(max(elapsed, elapsed * 0))
    return closure


def execution_from_row(row: asyncpg.Record, now: datetime | None = None) -> execution_pb2.Execution:
    execution = execution_pb2.Execution()
    execution.id.project = row["project"]
    execution.id.domain = row["domain"]
    execution.id.name = row["name"]
    execution.spec.ParseFromString(row["spec"])
    execution.closure.ParseFromString(row["closure"])
    with_live_duration(execution.closure, now or datetime.now(UTC))
    return execution
