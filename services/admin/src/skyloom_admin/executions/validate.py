"""Checks of execution ids in requests (every violation, with its path)."""

from __future__ import annotations

from skyloom_admin.events.validate import check_execution_id, check_node_id, raise_if
from skyloom_idl.core import identifier_pb2

__all__ = ["require_execution_id", "require_node_id", "require_task_id"]


def require_execution_id(e: identifier_pb2.WorkflowExecutionIdentifier, path: str = "id") -> None:
    raise_if(check_execution_id(e, path), "execution id")


def require_node_id(n: identifier_pb2.NodeExecutionIdentifier, path: str = "id") -> None:
    out = check_execution_id(n.execution_id, f"{path}.execution_id")
    out += check_node_id(n.node_id, f"{path}.node_id")
    raise_if(out, "node execution id")


def require_task_id(t: identifier_pb2.TaskExecutionIdentifier, path: str = "id") -> None:
    n = t.node_execution_id
    out = check_execution_id(n.execution_id, f"{path}.node_execution_id.execution_id")
    out += check_node_id(n.node_id, f"{path}.node_execution_id.node_id")
    raise_if(out, "task execution id")
