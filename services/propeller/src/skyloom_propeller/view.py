"""What the engine may know about the world during a round: a read-only snapshot.

The shell keeps a ``View`` up to date from what its commands returned and what it watches
(attempt status, catalog answers, signals, child executions). Every lookup answers ``None``
for "not known yet"; the engine then emits the command that will make it known (``Fetch``,
``CacheLookup``, ...) and waits. Lookups must be pure reads: the same snapshot always gives
the same answer, which is what makes ``evaluate`` deterministic and replayable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from skyloom_idl.core import compiler_pb2, dynamic_job_pb2, literals_pb2


class AttemptPhase:
    """What a backend says about an attempt."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class AttemptStatus:
    """The backend's view of one attempt. On success exactly one of ``outputs_uri`` and
    ``futures_uri`` (a dynamic task's DynamicJobSpec) is set; on failure ``error`` is."""

    phase: str
    outputs_uri: str = ""
    futures_uri: str = ""
    error_code: str = ""
    error_message: str = ""
    error_kind: int = 0
    retryable: bool = False
    error_uri: str = ""
    handle: str = ""
    log_uris: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CacheAnswer:
    """A catalog lookup: ``hit`` with the cached ``outputs_uri``, or a miss; ``failed`` when
    the catalog could not be asked (the task then runs uncached)."""

    hit: bool
    outputs_uri: str = ""
    failed: bool = False


@dataclass(frozen=True, slots=True)
class ChildStatus:
    """A child execution's phase (``WorkflowExecution.Phase``) and result."""

    phase: int
    outputs_uri: str = ""
    error_code: str = ""
    error_message: str = ""


@dataclass(frozen=True, slots=True)
class Recovery:
    """Whether a node succeeded in the original execution, and where its outputs are."""

    succeeded: bool
    outputs_uri: str = ""


class View(Protocol):
    """Read-only lookups; see the module docstring for the contract."""

    def literals(self, uri: str) -> literals_pb2.LiteralMap | None: ...

    def dynamic_job(self, uri: str) -> dynamic_job_pb2.DynamicJobSpec | None: ...

    def closure(self, uri: str) -> compiler_pb2.CompiledWorkflowClosure | None: ...

    def missing(self, uri: str) -> bool:
        """True when a fetch of ``uri`` found no object."""
        ...

    def attempt(self, attempt_id: str) -> AttemptStatus | None: ...

    def cache(self, key: str) -> CacheAnswer | None: ...

    def reservation(self, key: str, owner: str) -> bool | None:
        """True: ``owner`` holds the reservation; False: someone else does."""
        ...

    def signal(self, signal_id: str) -> literals_pb2.Literal | None: ...

    def child(self, name: str) -> ChildStatus | None: ...

    def recovery(self, node_path: str) -> Recovery | None: ...
