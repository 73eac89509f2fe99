"""The execution state the engine persists after every round: plain dataclasses, JSON bytes.

One ``ExecutionState`` per execution. Nodes are keyed by their *path*: the node id at top level,
``<parent path>.<child id>`` inside subworkflows and branches, ``<path>.<attempt>.<child id>``
inside a dynamic node (unique per parent attempt, see ADR 0040), ``<path>.<index>`` for array
items (which have no ``NodeState`` of their own: see ``ArrayState``).

Contracts:
- Everything here is data: no protobuf objects, no literals (those live in the blob store and
  are referred to by URI), so ``to_bytes``/``from_bytes`` round-trip exactly.
- ``NodeState.attempts`` counts attempts *started*: attempt ``attempts - 1`` is the current one.
  It only grows after the previous attempt was observed terminal, which is half of the
  at-most-once argument (ADR 0100).
- ``ArrayState`` keeps one byte per item per field (phase code, user and system failures) plus
  one float (start time of the running attempt), so a 100,000-item map costs about a megabyte.
"""

from __future__ import annotations

import base64
import json
from array import array
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = 1


@dataclass(slots=True)
class ErrorInfo:
    """A failure as data: ``kind`` is ``ExecutionError.ErrorKind`` (1 user, 2 system)."""

    code: str
    message: str
    kind: int
    retryable: bool = False
    uri: str = ""


@dataclass(slots=True)
class ArrayState:
    """Compact per-item state of an array node (map task).

    ``phases[i]`` is an ``ItemPhase`` code, ``user_failures[i]``/``system_failures[i]`` count the
    item's failed attempts (saturating at 255), ``started[i]`` is when its running attempt was
    launched (engine clock seconds). The item's current attempt number is
    ``user_failures[i] + system_failures[i]``.
    """

    size: int
    phases: bytearray
    user_failures: bytearray
    system_failures: bytearray
    started: array[float]

    @classmethod
    def new(cls, size: int) -> ArrayState:
        return cls(
            size=size,
            phases=bytearray(size),
            user_failures=bytearray(size),
            system_failures=bytearray(size),
            started=array("d", bytes(8 * size)),
        )

    def attempt(self, i: int) -> int:
        return self.user_failures[i] + self.system_failures[i]


class ItemPhase:
    """Phase codes of array items (one byte each)."""

    NOT_STARTED = 0
    RUNNING = 1
    SUCCEEDED = 2
    FAILED = 3
    ABORTED = 4
    TERMINAL = frozenset({2, 3, 4})


@dataclass(slots=True)
class NodeState:
    """The status of one node (see the module docstring for paths and attempts).

    ``phase`` is ``NodeExecution.Phase``; ``task_phase`` the current attempt's
    ``TaskExecution.Phase`` (task nodes); ``cache_status`` a ``CatalogCacheStatus``;
    ``handle`` the backend handle (attempt id, child execution name); ``wake_at`` a timer the
    node waits for; ``detail`` small kind-specific strings: ``taken`` (branch), ``futures`` and
    ``compiled`` (dynamic job and its compiled closure), ``watching`` (gate signal),
    ``cache_key``/``reserved`` (cache), ``mapped`` (array inputs split per item).
    """

    phase: int = 0
    attempts: int = 0
    user_failures: int = 0
    system_failures: int = 0
    task_phase: int = 0
    cache_status: int = 0
    queued_at: float = 0.0
    started_at: float = 0.0
    attempt_started_at: float = 0.0
    updated_at: float = 0.0
    wake_at: float = 0.0
    inputs_uri: str = ""
    outputs_uri: str = ""
    handle: str = ""
    error: ErrorInfo | None = None
    detail: dict[str, str] = field(default_factory=dict)
    array: ArrayState | None = None


@dataclass(slots=True)
class ExecutionState:
    """One execution: its phase (``WorkflowExecution.Phase``), its nodes by path, and what the
    shell asked for (``abort_cause``). ``round`` counts evaluated rounds; ``epoch`` is the
    owner's fencing token, written by the shell, never read by the engine."""

    project: str
    domain: str
    name: str
    inputs_uri: str
    data_prefix: str
    phase: int = 0
    nodes: dict[str, NodeState] = field(default_factory=dict)
    error: ErrorInfo | None = None
    outputs_uri: str = ""
    abort_cause: str = ""
    recover_from: str = ""
    max_parallelism: int = 0
    started_at: float = 0.0
    round: int = 0
    epoch: int = 0

    def node(self, path: str) -> NodeState:
        """The state of ``path``, created (not started) on first access."""
        st = self.nodes.get(path)
        if st is None:
            st = self.nodes[path] = NodeState()
        return st


def _encode(value: Any) -> Any:
    if isinstance(value, bytearray | bytes):
        return {"b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, array):
        return {"f64": base64.b64encode(value.tobytes()).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def to_bytes(state: ExecutionState) -> bytes:
    """Serialize ``state`` (deterministically: sorted keys, compact separators)."""
    raw = {"v": FORMAT_VERSION, "state": _encode(asdict(state))}
    return json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()


def _array_state(raw: dict[str, Any]) -> ArrayState:
    started: array[float] = array("d")
    started.frombytes(base64.b64decode(raw["started"]["f64"]))
    return ArrayState(
        size=raw["size"],
        phases=bytearray(base64.b64decode(raw["phases"]["b64"])),
        user_failures=bytearray(base64.b64decode(raw["user_failures"]["b64"])),
        system_failures=bytearray(base64.b64decode(raw["system_failures"]["b64"])),
        started=started,
    )


def _node_state(raw: dict[str, Any]) -> NodeState:
    err = raw.pop("error")
    arr = raw.pop("array")
    return NodeState(
        **raw,
        error=ErrorInfo(**err) if err else None,
        array=_array_state(arr) if arr else None,
    )


def from_bytes(data: bytes) -> ExecutionState:
    """The inverse of ``to_bytes``; ``ValueError`` for an unknown format version."""
    raw = json.loads(data)
    if raw.get("v") != FORMAT_VERSION:
        raise ValueError(f"unknown execution state format {raw.get('v')!r}")
    s = raw["state"]
    nodes = {k: _node_state(v) for k, v in s.pop("nodes").items()}
    err = s.pop("error")
    return ExecutionState(**s, nodes=nodes, error=ErrorInfo(**err) if err else None)
