"""Commands: the effects a round asks the I/O shell to perform, as plain data.

The engine never performs I/O; ``evaluate`` returns these in a deterministic order and the shell
executes them in that order (a ``WriteLiterals`` before the ``LaunchAttempt`` that reads it).
Every command is idempotent when repeated with the same fields (blob writes are
``put``-same-bytes, launches are keyed by ``attempt_id``, child executions by their name,
events by their deterministic id), because after a crash the shell may execute a round's
commands again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import Message

from skyloom_idl.core import literals_pb2, tasks_pb2


@dataclass(frozen=True, slots=True)
class Fetch:
    """Load the blob at ``uri`` into the view as ``kind`` ("literals", "dynamic_job",
    "closure"); the engine waits for it (a missing object is reported back as absent)."""

    uri: str
    kind: str


@dataclass(frozen=True, slots=True)
class WriteLiterals:
    """Store ``literals`` (a ``LiteralMap``) at ``uri``; the shell also makes it visible in
    the view, so the next round can read it without a fetch."""

    uri: str
    literals: literals_pb2.LiteralMap


@dataclass(frozen=True, slots=True)
class WriteBlob:
    """Store raw protobuf bytes (e.g. a compiled dynamic closure) at ``uri``."""

    uri: str
    data: bytes


@dataclass(frozen=True, slots=True)
class LaunchAttempt:
    """Run one task attempt. Backends create at most one process/pod/job per ``attempt_id``:
    a launch of a known id adopts the existing attempt. The task reads ``inputs_uri`` and
    writes ``outputs.pb``/``futures.pb``/``error.pb`` under ``output_prefix``."""

    attempt_id: str
    node_path: str
    retry_attempt: int
    task: tasks_pb2.TaskTemplate
    inputs_uri: str
    output_prefix: str
    raw_output_prefix: str
    resources: tasks_pb2.Resources
    interruptible: bool
    timeout_s: float = 0.0
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AbortAttempt:
    """Stop an attempt (tolerates one that already finished or never started)."""

    attempt_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """Ask the catalog for ``(dataset, version, tag)``; the answer comes back through
    ``View.cache``."""

    key: str
    project: str
    domain: str
    dataset: str
    version: str
    tag: str


@dataclass(frozen=True, slots=True)
class CachePut:
    """Store an attempt's outputs in the catalog under the key (failures are not fatal)."""

    key: str
    project: str
    domain: str
    dataset: str
    version: str
    tag: str
    outputs_uri: str
    source_attempt_id: str


@dataclass(frozen=True, slots=True)
class Reserve:
    """Get or extend the cache-serialization reservation of ``key`` for ``owner``; the answer
    comes back through ``View.reservation``."""

    key: str
    owner: str


@dataclass(frozen=True, slots=True)
class ReleaseReservation:
    key: str
    owner: str


@dataclass(frozen=True, slots=True)
class EmitEvent:
    """Publish a workflow, node or task execution event (its ``event_id`` is deterministic)."""

    event: Message


@dataclass(frozen=True, slots=True)
class ScheduleWake:
    """Run another round at ``at`` (engine clock seconds) even if nothing else happens."""

    at: float


@dataclass(frozen=True, slots=True)
class CreateChildExecution:
    """Start a launch plan as a child execution named ``name`` (deterministic:
    ``ALREADY_EXISTS`` means it is running)."""

    name: str
    launch_plan: str
    inputs_uri: str
    parent_node_path: str


@dataclass(frozen=True, slots=True)
class AbortChildExecution:
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class WatchSignal:
    """Create (if absent) and watch the signal a gate waits for."""

    signal_id: str
    node_path: str


@dataclass(frozen=True, slots=True)
class LookupRecovery:
    """Ask whether ``node_path`` succeeded in the original execution (recovery mode)."""

    node_path: str
    original: str


Command = (
    Fetch
    | WriteLiterals
    | WriteBlob
    | LaunchAttempt
    | AbortAttempt
    | CacheLookup
    | CachePut
    | Reserve
    | ReleaseReservation
    | EmitEvent
    | ScheduleWake
    | CreateChildExecution
    | AbortChildExecution
    | WatchSignal
    | LookupRecovery
)


@dataclass(slots=True)
class Commands:
    """An ordered, de-duplicated command buffer (the same Fetch asked by two nodes is one)."""

    items: list[Command] = field(default_factory=list)
    _fetches: set[str] = field(default_factory=set)

    def add(self, cmd: Command) -> None:
        if isinstance(cmd, Fetch):
            if cmd.uri in self._fetches:
                return
            self._fetches.add(cmd.uri)
        self.items.append(cmd)
