"""A tiny in-process shell around ``evaluate``: rounds against an executor and a blob store.

Used by tests and examples until the service shell (JetStream intake, leases and epochs in
Postgres, events to NATS) exists; it follows the same protocol that shell must:

0. on start, execute the commands of the last persisted round again (``pending``): they may not
   have run before the crash, and they are idempotent;
1. before a round, ask the executor about every attempt the state says is in flight
   (``running_attempts``), so attempts launched before a restart are adopted, never relaunched;
2. ``evaluate``; 3. persist the new state with its commands (``persist`` gets a
   ``journal.record``) *before* executing them; 4. execute the commands in order;
5. sleep until something may have changed.

It has an in-memory catalog (cache lookups, puts, reservations always granted), collects events
in ``events`` instead of publishing them, uploads each finished attempt's stdout/stderr next to
its outputs (the URIs go on its terminal task event), answers signals from ``signals``, and does
not run child executions (a launch-plan node fails with ``ChildExecutionsUnsupported``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from skyloom_core.blob.errors import NotFound
from skyloom_core.blob.store import BlobStore
from skyloom_core.phases import is_terminal_workflow
from skyloom_idl.core import compiler_pb2, dynamic_job_pb2, execution_pb2, literals_pb2
from skyloom_propeller import commands as c
from skyloom_propeller import journal
from skyloom_propeller.attempts import running_attempts
from skyloom_propeller.config import EngineConfig
from skyloom_propeller.engine import evaluate
from skyloom_propeller.executors.process import ProcessExecutor
from skyloom_propeller.state import ExecutionState, from_bytes, to_bytes
from skyloom_propeller.view import AttemptPhase, AttemptStatus, CacheAnswer, ChildStatus, Recovery

WF = execution_pb2.WorkflowExecution.Phase


@dataclass
class MemoryView:
    """A ``View`` backed by dicts the driver fills."""

    blobs: dict[str, Message] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    attempts: dict[str, AttemptStatus] = field(default_factory=dict)
    caches: dict[str, CacheAnswer] = field(default_factory=dict)
    signals: dict[str, literals_pb2.Literal] = field(default_factory=dict)
    children: dict[str, ChildStatus] = field(default_factory=dict)
    recoveries: dict[str, Recovery] = field(default_factory=dict)

    def _get(self, uri: str, kind: type[Message]) -> Message | None:
        got = self.blobs.get(uri)
        return got if isinstance(got, kind) else None

    def literals(self, uri: str) -> literals_pb2.LiteralMap | None:
        got = self._get(uri, literals_pb2.LiteralMap)
        return got if isinstance(got, literals_pb2.LiteralMap) else None

    def dynamic_job(self, uri: str) -> dynamic_job_pb2.DynamicJobSpec | None:
        got = self._get(uri, dynamic_job_pb2.DynamicJobSpec)
        return got if isinstance(got, dynamic_job_pb2.DynamicJobSpec) else None

    def closure(self, uri: str) -> compiler_pb2.CompiledWorkflowClosure | None:
        got = self._get(uri, compiler_pb2.CompiledWorkflowClosure)
        return got if isinstance(got, compiler_pb2.CompiledWorkflowClosure) else None

    def missing(self, uri: str) -> bool:
        return uri in self.absent

    def attempt(self, attempt_id: str) -> AttemptStatus | None:
        return self.attempts.get(attempt_id)

    def cache(self, key: str) -> CacheAnswer | None:
        return self.caches.get(key)

    def reservation(self, key: str, owner: str) -> bool | None:
        return True

    def signal(self, signal_id: str) -> literals_pb2.Literal | None:
        return self.signals.get(signal_id)

    def child(self, name: str) -> ChildStatus | None:
        return self.children.get(name)

    def recovery(self, node_path: str) -> Recovery | None:
        return self.recoveries.get(node_path, Recovery(False))


_KINDS: dict[str, type[Message]] = {
    "literals": literals_pb2.LiteralMap,
    "dynamic_job": dynamic_job_pb2.DynamicJobSpec,
    "closure": compiler_pb2.CompiledWorkflowClosure,
}


class LocalDriver:
    """Drives one execution to a terminal phase; see the module docstring."""

    def __init__(
        self,
        state: ExecutionState,
        closure: compiler_pb2.CompiledWorkflowClosure,
        store: BlobStore,
        executor: ProcessExecutor,
        *,
        config: EngineConfig | None = None,
        persist: Callable[[bytes], None] | None = None,
        clock: Callable[[], float] = time.time,
        poll_s: float = 0.05,
        catalog: dict[str, str] | None = None,
        pending: list[c.Command] | None = None,
    ) -> None:
        self.state = state
        self.closure = closure
        self.store = store
        self.executor = executor
        self.config = config or EngineConfig()
        self.persist = persist
        self.clock = clock
        self.poll_s = poll_s
        self.view = MemoryView()
        self.catalog = catalog if catalog is not None else {}
        self.events: list[Message] = []
        self.launched: list[str] = []
        self._pending = list(pending or [])

    @classmethod
    def resume(
        cls,
        record: bytes,
        closure: compiler_pb2.CompiledWorkflowClosure,
        store: BlobStore,
        executor: ProcessExecutor,
        **kw: Any,
    ) -> LocalDriver:
        """A driver continuing from a persisted ``journal.record``."""
        state, pending = journal.read_record(record)
        return cls(from_bytes(state), closure, store, executor, pending=pending, **kw)

    async def step(self) -> list[c.Command]:
        """One round: refresh, evaluate, persist, execute."""
        while self._pending:
            await self.execute(self._pending.pop(0))
        for aid in running_attempts(self.state):
            status = await self.executor.status(aid)
            if status is None:
                self.view.attempts.pop(aid, None)
                continue
            if status.phase != AttemptPhase.RUNNING:
                logs = await self.executor.upload_logs(aid)
                status = dataclasses.replace(status, log_uris=logs)
            self.view.attempts[aid] = status
        self.state, cmds = evaluate(self.state, self.closure, self.view, self.clock(), self.config)
        if self.persist is not None:
            self.persist(journal.record(to_bytes(self.state), cmds))
        for cmd in cmds:
            await self.execute(cmd)
        return cmds

    async def run(self, limit_s: float = 120.0) -> ExecutionState:
        """Rounds until the execution is terminal (``TimeoutError`` after ``limit_s``)."""
        deadline = time.monotonic() + limit_s
        while not is_terminal_workflow(self.state.phase):
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {self.state.name} not done after {limit_s}s")
            cmds = await self.step()
            if not any(isinstance(x, c.WriteLiterals | c.Fetch | c.CacheLookup) for x in cmds):
                await asyncio.sleep(self.poll_s)
        return self.state

    async def execute(self, cmd: c.Command) -> None:
        v, store = self.view, self.store
        if isinstance(cmd, c.WriteLiterals):
            await store.put_bytes(store.key_of(cmd.uri), cmd.literals.SerializeToString())
            v.blobs[cmd.uri] = cmd.literals
        elif isinstance(cmd, c.WriteBlob):
            await store.put_bytes(store.key_of(cmd.uri), cmd.data)
        elif isinstance(cmd, c.Fetch):
            try:
                data = await store.get_bytes(store.key_of(cmd.uri))
            except NotFound:
                v.absent.add(cmd.uri)
                return
            msg = _KINDS[cmd.kind]()
            msg.ParseFromString(data)
            v.blobs[cmd.uri] = msg
        elif isinstance(cmd, c.LaunchAttempt):
            self.launched.append(cmd.attempt_id)
            v.attempts[cmd.attempt_id] = await self.executor.launch(cmd)
        elif isinstance(cmd, c.AbortAttempt):
            await self.executor.abort(cmd.attempt_id, cmd.reason)
        elif isinstance(cmd, c.EmitEvent):
            self.events.append(cmd.event)
        elif isinstance(cmd, c.CacheLookup):
            hit = self.catalog.get(cmd.key)
            v.caches[cmd.key] = CacheAnswer(hit is not None, hit or "")
        elif isinstance(cmd, c.CachePut):
            self.catalog[cmd.key] = cmd.outputs_uri
        elif isinstance(cmd, c.CreateChildExecution):
            v.children[cmd.name] = ChildStatus(
                WF.PHASE_FAILED, error_code="ChildExecutionsUnsupported",
                error_message="the local driver does not run child executions",
            )  # fmt: skip
