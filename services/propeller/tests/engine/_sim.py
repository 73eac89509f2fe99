"""An in-memory world for engine tests: a fake view and a loop that executes commands.

Task bodies are plain Python functions ``(inputs, attempt) -> LiteralMap`` that may raise
``Fail`` (a task error document) or ``Vanish`` (the process disappeared: a SYSTEM error); they run
when the simulated clock reaches the attempt's launch time plus ``durations[task]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from skyloom_idl.core import (
    compiler_pb2,
    dynamic_job_pb2,
    execution_pb2,
    literals_pb2,
)
from skyloom_propeller import commands as c
from skyloom_propeller.config import EngineConfig
from skyloom_propeller.engine import evaluate
from skyloom_propeller.state import ExecutionState
from skyloom_propeller.view import (
    AttemptPhase,
    AttemptStatus,
    CacheAnswer,
    ChildStatus,
    Recovery,
)

USER = execution_pb2.ExecutionError.ERROR_KIND_USER
SYSTEM = execution_pb2.ExecutionError.ERROR_KIND_SYSTEM


class Fail(Exception):
    def __init__(self, code: str, *, retryable: bool = False, kind: int = USER) -> None:
        super().__init__(code)
        self.code, self.retryable, self.kind = code, retryable, kind


class Vanish(Exception):
    """The attempt's process disappeared without a result."""


Body = Callable[[literals_pb2.LiteralMap, int], literals_pb2.LiteralMap]


@dataclass
class FakeView:
    blobs: dict[str, literals_pb2.LiteralMap] = field(default_factory=dict)
    jobs: dict[str, dynamic_job_pb2.DynamicJobSpec] = field(default_factory=dict)
    closures: dict[str, compiler_pb2.CompiledWorkflowClosure] = field(default_factory=dict)
    attempts: dict[str, AttemptStatus] = field(default_factory=dict)
    caches: dict[str, CacheAnswer] = field(default_factory=dict)
    reservations: dict[str, bool] = field(default_factory=dict)
    signals: dict[str, literals_pb2.Literal] = field(default_factory=dict)
    children: dict[str, ChildStatus] = field(default_factory=dict)
    recoveries: dict[str, Recovery] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)

    def literals(self, uri: str) -> literals_pb2.LiteralMap | None:
        return self.blobs.get(uri)

    def dynamic_job(self, uri: str) -> dynamic_job_pb2.DynamicJobSpec | None:
        return self.jobs.get(uri)

    def closure(self, uri: str) -> compiler_pb2.CompiledWorkflowClosure | None:
        return self.closures.get(uri)

    def missing(self, uri: str) -> bool:
        return uri in self.absent

    def attempt(self, attempt_id: str) -> AttemptStatus | None:
        return self.attempts.get(attempt_id)

    def cache(self, key: str) -> CacheAnswer | None:
        return self.caches.get(key)

    def reservation(self, key: str, owner: str) -> bool | None:
        return self.reservations.get(key)

    def signal(self, signal_id: str) -> literals_pb2.Literal | None:
        return self.signals.get(signal_id)

    def child(self, name: str) -> ChildStatus | None:
        return self.children.get(name)

    def recovery(self, node_path: str) -> Recovery | None:
        return self.recoveries.get(node_path)


@dataclass
class Running:
    cmd: c.LaunchAttempt
    due: float


class Sim:
    """Drives ``evaluate`` against ``FakeView``; ``bodies`` maps task name to its body."""

    def __init__(
        self,
        closure: compiler_pb2.CompiledWorkflowClosure,
        inputs: literals_pb2.LiteralMap,
        bodies: dict[str, Body],
        *,
        durations: dict[str, float] | None = None,
        max_parallelism: int = 0,
        config: EngineConfig | None = None,
        recover_from: str = "",
        cache_hits: dict[str, literals_pb2.LiteralMap] | None = None,
    ) -> None:
        self.closure = closure
        self.bodies = bodies
        self.durations = durations or {}
        self.config = config or EngineConfig()
        self.view = FakeView()
        self.state = ExecutionState(
            project="p", domain="d", name="e1", inputs_uri="mem://e1/inputs.pb",
            data_prefix="mem://e1", max_parallelism=max_parallelism, recover_from=recover_from,
        )  # fmt: skip
        self.view.blobs[self.state.inputs_uri] = inputs
        self.now = 1000.0
        self.running: dict[str, Running] = {}
        self.launches: list[c.LaunchAttempt] = []
        self.aborted: list[str] = []
        self.log: list[c.Command] = []
        self.peak = 0
        self.cache_puts: list[c.CachePut] = []
        self.cache_hits = cache_hits or {}
        self.wakes: list[float] = []
        # Optional per-attempt outcome ("ok", "user", "sys"), for randomized worlds.
        self.decide: Callable[[c.LaunchAttempt], str] | None = None

    # -- one round -------------------------------------------------------------------
    def round(self) -> list[c.Command]:
        self.state, cmds = evaluate(self.state, self.closure, self.view, self.now, self.config)
        self.log += cmds
        for cmd in cmds:
            self.execute(cmd)
        self.peak = max(self.peak, len(self.running))
        return cmds

    def execute(self, cmd: c.Command) -> None:
        v = self.view
        if isinstance(cmd, c.WriteLiterals):
            v.blobs[cmd.uri] = cmd.literals
        elif isinstance(cmd, c.WriteBlob):
            closure = compiler_pb2.CompiledWorkflowClosure()
            closure.ParseFromString(cmd.data)
            v.closures[cmd.uri] = closure
        elif isinstance(cmd, c.Fetch):
            if cmd.uri not in v.blobs and cmd.uri not in v.jobs:
                v.absent.add(cmd.uri)
        elif isinstance(cmd, c.LaunchAttempt):
            if cmd.attempt_id not in v.attempts:
                self.launches.append(cmd)
                v.attempts[cmd.attempt_id] = AttemptStatus(AttemptPhase.RUNNING)
                due = self.now + self.durations.get(cmd.task.id.name, 0.0)
                self.running[cmd.attempt_id] = Running(cmd, due)
        elif isinstance(cmd, c.AbortAttempt):
            self.aborted.append(cmd.attempt_id)
            if cmd.attempt_id in self.running:
                del self.running[cmd.attempt_id]
                v.attempts[cmd.attempt_id] = AttemptStatus(AttemptPhase.ABORTED)
        elif isinstance(cmd, c.CacheLookup):
            hit = self.cache_hits.get(cmd.tag)
            if hit is not None:
                uri = f"mem://cache/{cmd.tag}"
                v.blobs[uri] = hit
                v.caches[cmd.key] = CacheAnswer(True, uri)
            else:
                v.caches[cmd.key] = CacheAnswer(False)
        elif isinstance(cmd, c.CachePut):
            self.cache_puts.append(cmd)
        elif isinstance(cmd, c.Reserve):
            v.reservations.setdefault(cmd.key, True)
        elif isinstance(cmd, c.ScheduleWake):
            self.wakes.append(cmd.at)

    # -- the tasks ---------------------------------------------------------------------
    def complete_due(self) -> None:
        for aid, r in sorted(self.running.items()):
            if r.due > self.now:
                continue
            del self.running[aid]
            self.view.attempts[aid] = self._run(r.cmd)

    def _run(self, cmd: c.LaunchAttempt) -> AttemptStatus:
        inputs = self.view.blobs[cmd.inputs_uri]
        body = self.bodies[cmd.task.id.name]
        what = self.decide(cmd) if self.decide is not None else "ok"
        try:
            if what == "user":
                raise Fail("Flaky", retryable=True)
            if what == "sys":
                raise Vanish()
            out = body(inputs, cmd.retry_attempt)
        except Fail as f:
            return AttemptStatus(
                AttemptPhase.FAILED, error_code=f.code, error_message=f.code,
                error_kind=f.kind, retryable=f.retryable,
            )  # fmt: skip
        except Vanish:
            return AttemptStatus(
                AttemptPhase.FAILED, error_code="ProcessVanished", error_kind=SYSTEM,
                retryable=True,
            )  # fmt: skip
        if isinstance(out, dynamic_job_pb2.DynamicJobSpec):
            uri = cmd.output_prefix + "/futures.pb"
            self.view.jobs[uri] = out
            return AttemptStatus(AttemptPhase.SUCCEEDED, futures_uri=uri)
        uri = cmd.output_prefix + "/outputs.pb"
        self.view.blobs[uri] = out
        return AttemptStatus(AttemptPhase.SUCCEEDED, outputs_uri=uri)

    def run(self, max_rounds: int = 500, step: float = 1.0) -> ExecutionState:
        """Rounds until the execution is terminal; tasks finish when due; time advances by
        ``step`` whenever a round changed nothing."""
        from skyloom_core.phases import is_terminal_workflow

        for _ in range(max_rounds):
            self.complete_due()
            before = (self.state.round, len(self.log))
            self.round()
            if is_terminal_workflow(self.state.phase):
                return self.state
            if (not self.running and len(self.log) == before[1]) or (
                self.running and all(r.due > self.now for r in self.running.values())
            ):
                self.now += step
        raise AssertionError(f"not terminal after {max_rounds} rounds: {self.state.phase}")

    def outputs(self) -> literals_pb2.LiteralMap:
        return self.view.blobs[self.state.outputs_uri]

    def events(self, kind: type) -> list[object]:
        return [
            cmd.event
            for cmd in self.log
            if isinstance(cmd, c.EmitEvent) and isinstance(cmd.event, kind)
        ]
