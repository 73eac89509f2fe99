"""Request validation of events: ids, phases and the deterministic event id.

Every check returns all violations with their field paths under ``event.``; the caller raises
``InvalidArgument`` once. The event id is recomputed from the event's fields (libs/core's one
implementation) and must match, so a buggy producer can neither make two different events
collide nor make a repeated event look new (ADR 0040).
"""

from __future__ import annotations

from skyloom_common.errors import FieldViolation, InvalidArgument
from skyloom_core import ids, names, sizes
from skyloom_core.errors import Violation
from skyloom_idl.core import identifier_pb2
from skyloom_idl.event import event_pb2

__all__ = [
    "check_execution_id",
    "check_node_event",
    "check_node_id",
    "check_task_event",
    "check_workflow_event",
    "raise_if",
]


def raise_if(violations: list[Violation], what: str) -> None:
    """Raise ``InvalidArgument`` carrying every violation, if there is any."""
    if violations:
        summary = "; ".join(str(v) for v in violations[:5])
        raise InvalidArgument(
            f"invalid {what}: {summary}",
            violations=[FieldViolation(v.field_path, v.message) for v in violations],
        )


def check_execution_id(
    execution: identifier_pb2.WorkflowExecutionIdentifier, path: str
) -> list[Violation]:
    out = names.validate_project(execution.project, f"{path}.project")
    out += names.validate_domain(execution.domain, f"{path}.domain")
    out += names.validate_execution_name(execution.name, f"{path}.name")
    return out


def check_node_id(node_id: str, path: str) -> list[Violation]:
    """A dotted node id path (``n1.n0``): each element a node id."""
    if not node_id:
        return [Violation(path, "node id must not be empty", names.CODE)]
    if len(node_id) > 1024:
        return [Violation(path, "node id path is over 1024 characters", names.CODE)]
    out: list[Violation] = []
    for part in node_id.split("."):
        found = names.validate_node_id(part, path)
        if found:
            out += found
            break
    return out


def _check_inline(data_set: bool, size: int, limit: int, path: str) -> list[Violation]:
    if data_set and size > limit:
        return [
            Violation(
                path,
                f"inline output data is {size} bytes, over the limit of {limit} bytes; "
                "write it to the blob store and send its URI",
                "LiteralTooLarge",
            )
        ]
    return []


def _check_event_id(got: str, expected: str, path: str) -> list[Violation]:
    if got != expected:
        return [
            Violation(
                path,
                f"event_id {got!r} does not match the event's fields (expected {expected})",
                "EventIdMismatch",
            )
        ]
    return []


def check_workflow_event(event: event_pb2.WorkflowExecutionEvent, max_inline: int) -> None:
    out = check_execution_id(event.execution_id, "event.execution_id")
    if event.phase == 0:
        out.append(Violation("event.phase", "phase must be set", "MissingPhase"))
    if not out:
        expected = ids.event_id(event.execution_id, event.phase)
        out += _check_event_id(event.event_id, expected, "event.event_id")
    has_data = event.WhichOneof("output_result") == "output_data"
    size = sizes.literal_map_size(event.output_data) if has_data else 0
    out += _check_inline(has_data, size, max_inline, "event.output_data")
    raise_if(out, "workflow event")


def check_node_event(event: event_pb2.NodeExecutionEvent, max_inline: int) -> None:
    out = check_execution_id(event.id.execution_id, "event.id.execution_id")
    out += check_node_id(event.id.node_id, "event.id.node_id")
    if event.phase == 0:
        out.append(Violation("event.phase", "phase must be set", "MissingPhase"))
    if not out:
        expected = ids.event_id(event.id, event.phase, retry_attempt=event.retry_group)
        out += _check_event_id(event.event_id, expected, "event.event_id")
    has_data = event.WhichOneof("output_result") == "output_data"
    size = sizes.literal_map_size(event.output_data) if has_data else 0
    out += _check_inline(has_data, size, max_inline, "event.output_data")
    raise_if(out, "node event")


def task_entity(event: event_pb2.TaskExecutionEvent) -> identifier_pb2.TaskExecutionIdentifier:
    return identifier_pb2.TaskExecutionIdentifier(
        task_id=event.task_id,
        node_execution_id=event.parent_node_execution_id,
        retry_attempt=event.retry_attempt,
    )


def check_task_event(event: event_pb2.TaskExecutionEvent, max_inline: int) -> None:
    node = event.parent_node_execution_id
    out = check_execution_id(node.execution_id, "event.parent_node_execution_id.execution_id")
    out += check_node_id(node.node_id, "event.parent_node_execution_id.node_id")
    out += names.validate_identifier(event.task_id, "event.task_id")
    if event.phase == 0:
        out.append(Violation("event.phase", "phase must be set", "MissingPhase"))
    if not out:
        expected = ids.event_id(task_entity(event), event.phase, phase_version=event.phase_version)
        out += _check_event_id(event.event_id, expected, "event.event_id")
    has_data = event.WhichOneof("output_result") == "output_data"
    size = sizes.literal_map_size(event.output_data) if has_data else 0
    out += _check_inline(has_data, size, max_inline, "event.output_data")
    raise_if(out, "task event")
