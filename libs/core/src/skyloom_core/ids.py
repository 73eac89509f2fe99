"""Deterministic ids: the same inputs always give the same id, so retries are safe.

- ``event_key``/``event_id``: an event is identified by its entity, retry attempt, phase and
  phase version. The key is readable
  (``task:proj:dev:exec1:n0:proj:dev:t.clean:v1:2:PHASE_RUNNING:3``); the id is the UUIDv5 of
  the key in ``EVENT_NAMESPACE``, used as ``Nats-Msg-Id`` and as admin's dedupe key.
- ``attempt_id``: a DNS-1123 label (≤63) naming one attempt of a node; plugins and executors
  key launches on it.
- ``child_execution_name``: the 20-character name of a launch-plan node's child execution.
- ``scheduled_execution_name``: ``f`` + 19 hex digits of FNV-1a-128 over
  ``project:domain:name:version:<unix seconds>``, so every scheduler names a fire the same.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

from skyloom_idl.core import execution_pb2, identifier_pb2

EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://skyloom.dev/ns/events")
EventEntity = (
    identifier_pb2.WorkflowExecutionIdentifier
    | identifier_pb2.NodeExecutionIdentifier
    | identifier_pb2.TaskExecutionIdentifier
)
_UNSAFE = re.compile(r"[^a-z0-9-]+")
_FNV128_OFFSET = 0x6C62272E07BB014262B821756295C58D
_FNV128_PRIME = 0x0000000001000000000000000000013B


def _part(value: str) -> str:
    # Components never contain ':' once validated; escape anyway so keys stay unambiguous.
    return value.replace("%", "%25").replace(":", "%3A")


def _execution_parts(e: identifier_pb2.WorkflowExecutionIdentifier) -> list[str]:
    return [_part(e.project), _part(e.domain), _part(e.name)]


def event_key(
    entity: EventEntity, phase: int, *, retry_attempt: int = 0, phase_version: int = 0
) -> str:
    """The readable identity of an event.

    Workflow events use (execution, phase); node events add the node id and ``retry_attempt``
    (the event's ``retry_group``); the format is documented in proto/skyloom/event/event.proto;
    task events use the attempt in ``entity.retry_attempt`` plus the task id and
    ``phase_version``. Unused arguments are ignored.
    """
    if isinstance(entity, identifier_pb2.WorkflowExecutionIdentifier):
        name = execution_pb2.WorkflowExecution.Phase.Name(phase)  # type: ignore[arg-type]
        return ":".join(["wf", *_execution_parts(entity), name])
    if isinstance(entity, identifier_pb2.NodeExecutionIdentifier):
        name = execution_pb2.NodeExecution.Phase.Name(phase)  # type: ignore[arg-type]
        parts = [*_execution_parts(entity.execution_id), _part(entity.node_id)]
        return ":".join(["node", *parts, str(retry_attempt), name])
    name = execution_pb2.TaskExecution.Phase.Name(phase)  # type: ignore[arg-type]
    node = entity.node_execution_id
    task = entity.task_id
    parts = [*_execution_parts(node.execution_id), _part(node.node_id)]
    parts += [_part(task.project), _part(task.domain), _part(task.name), _part(task.version)]
    return ":".join(["task", *parts, str(entity.retry_attempt), name, str(phase_version)])


def event_id(
    entity: EventEntity, phase: int, *, retry_attempt: int = 0, phase_version: int = 0
) -> str:
    """UUIDv5 (string form) of ``event_key(...)``."""
    key = event_key(entity, phase, retry_attempt=retry_attempt, phase_version=phase_version)
    return str(uuid.uuid5(EVENT_NAMESPACE, key))


def _label(value: str, limit: int) -> str:
    return _UNSAFE.sub("-", value.lower())[:limit].strip("-")


def attempt_id(
    execution: identifier_pb2.WorkflowExecutionIdentifier, node_id: str, retry_attempt: int
) -> str:
    """A DNS-1123 label (≤63 chars) for one attempt: readable, plus 8 hex of the full identity
    (so truncation and other projects never collide): ``<exec>-<node>-<attempt>-<hash>``."""
    full = "/".join(
        [execution.project, execution.domain, execution.name, node_id, str(retry_attempt)]
    )
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    parts = [_label(execution.name, 24), _label(node_id, 16), str(retry_attempt), digest]
    return "-".join(p for p in parts if p)


def child_execution_name(
    parent: identifier_pb2.WorkflowExecutionIdentifier, node_id: str, attempt: int
) -> str:
    """The 20-character, DNS-label-safe name of a launch-plan node's child execution:
    ``f`` + 19 base32 characters of SHA-256 over (parent, node id, attempt)."""
    full = "/".join([parent.project, parent.domain, parent.name, node_id, str(attempt)])
    digest = hashlib.sha256(full.encode()).digest()
    return "f" + base64.b32encode(digest).decode().lower()[:19]


def fnv1a_128(data: bytes) -> int:
    """The 128-bit FNV-1a hash of ``data``."""
    h = _FNV128_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV128_PRIME) % (1 << 128)
    return h


def scheduled_execution_name(launch_plan: identifier_pb2.Identifier, scheduled_time: int) -> str:
    """``f`` + 19 hex digits: the name of the execution a schedule fires at ``scheduled_time``
    (unix seconds). Equal for every scheduler replica, so a duplicate fire is ALREADY_EXISTS."""
    lp = launch_plan
    text = f"{lp.project}:{lp.domain}:{lp.name}:{lp.version}:{scheduled_time}"
    return "f" + f"{fnv1a_128(text.encode()):032x}"[:19]
