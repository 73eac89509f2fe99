"""The local DAG scheduler: runs a compiled graph with the semantics of a remote run.

Nodes start as soon as their upstream nodes (from the compiled connections) succeed, so
independent nodes run concurrently. Sync task bodies run in worker threads when something
else in the run could progress meanwhile; when a body is the only thing that can run (a chain,
a single task) and has no timeout, it runs on the loop's thread, which saves two thread
hand-offs per task and changes nothing a task could observe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.message import DecodeError

from skyloom._engine import engine
from skyloom._errors import ExecutionError
from skyloom.core.graph import Graph
from skyloom.local import attempt as att
from skyloom.local.cache import LocalCache, cache_key
from skyloom.local.context import ExecutionParameters
from skyloom.local.taskspec import TaskSpec, spec_of
from skyloom.local.threads import POOL_SIZE, process_pool
from skyloom.types.attr_path import select
from skyloom_idl.core import literals_pb2, workflow_pb2

T = TypeVar("T")

FAIL_AFTER = workflow_pb2.WorkflowMetadata.ON_FAILURE_POLICY_FAIL_AFTER_EXECUTABLE_NODES_COMPLETE


@dataclass(frozen=True)
class NodeEvent:
    """A phase change of a node (its dotted id path), for progress views."""

    node_id: str
    name: str
    # RUNNING, SUCCEEDED, FAILED, RETRYING, CACHED, WAITING, CACHE_LOOKUP_FAILURE, CACHE_PUT_FAILURE
    phase: str
    attempt: int = 0
    message: str = ""
    deck: Path | None = None
    at: float = field(default_factory=time.time)


@dataclass
class LocalConfig:
    """How a local run behaves; the CLI fills it from flags."""

    cache: LocalCache = field(default_factory=LocalCache)
    run_dir: Path | None = None
    signals: Mapping[str, Any] = field(default_factory=dict)
    approvals: Mapping[str, bool] = field(default_factory=dict)
    prompt: Callable[[str, str], str] | None = None
    on_event: Callable[[NodeEvent], None] | None = None
    max_system_retries: int = 3
    overwrite_cache: bool = False
    max_parallelism: int = 0


# Set while a run is in progress in this context: a run started from a task body (a nested
# run) gets threads of its own, so outer bodies waiting on it cannot starve it of threads.
_IN_RUN: ContextVar[bool] = ContextVar("skyloom_in_run", default=False)
# (executor, how many of its live units are this asyncio task or its ancestors).
_UNITS: ContextVar[tuple[Executor, int] | None] = ContextVar("skyloom_units", default=None)


class Executor:
    """Runs graphs and tasks of one local execution."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.execution_id = "local-" + uuid.uuid4().hex[:12]
        env = os.environ.get("SKYLOOM_LOCAL_RUNS")
        base = config.run_dir or (Path(env) if env else Path.home() / ".skyloom" / "local-runs")
        self.run_dir = base / self.execution_id
        self._run_dir = str(self.run_dir)
        # Files and directories the run produces or is given (the local raw-data store).
        self.raw_dir = self.run_dir / "raw"
        self.decks: dict[str, Path] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(config.max_parallelism) if config.max_parallelism else None
        self._nested = _IN_RUN.get()
        self._threads: ThreadPoolExecutor | None = None
        # Units (scheduled nodes, map items) started and not finished; see alone().
        self._live = 0

    def pool(self) -> ThreadPoolExecutor:
        """Threads for sync task bodies without a timeout (bodies with a timeout get a
        daemon thread each, which can be abandoned)."""
        if not self._nested:
            return process_pool()
        if self._threads is None:
            self._threads = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="skyloom-task")
        return self._threads

    def close(self) -> None:
        """Release worker threads of its own (a nested run's); idempotent."""
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None

    def enter(self) -> None:
        """Mark the calling context as running this executor (call first in the run's task)."""
        _IN_RUN.set(True)

    @property
    def limited(self) -> bool:
        """Whether task attempts take one of ``max_parallelism`` slots."""
        return self._slots is not None

    def limit(self, max_parallelism: int) -> None:
        """Run at most ``max_parallelism`` task attempts at once (0: no limit)."""
        self._slots = asyncio.Semaphore(max_parallelism) if max_parallelism else None

    def emit(self, event: NodeEvent) -> None:
        if event.deck is not None:
            self.decks[event.node_id] = event.deck
        if self.config.on_event is not None:
            self.config.on_event(event)

    def event(
        self,
        path: str,
        name: str,
        phase: str,
        attempt: int = 0,
        message: str = "",
        deck: Path | None = None,
    ) -> None:
        """Record a node event; it is only built when someone listens (on every attempt)."""
        if deck is not None:
            self.decks[path] = deck
        if self.config.on_event is not None:
            self.config.on_event(NodeEvent(path, name, phase, attempt, message, deck))

    # ---- units: what may run on the loop's thread ------------------------------------------
    def _depth(self) -> int:
        units = _UNITS.get()
        return units[1] if units is not None and units[0] is self else 0

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start ``coro`` as a unit: a task that may run alongside the others."""
        self._live += 1
        token = _UNITS.set((self, self._depth() + 1))
        try:
            task = asyncio.create_task(coro)  # the task runs in a copy of this context
        finally:
            _UNITS.reset(token)
        task.add_done_callback(self._unit_done)
        return task

    def _unit_done(self, task: asyncio.Task[Any]) -> None:
        self._live -= 1

    async def run_here(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` as a unit in the calling task (when nothing else could run with it)."""
        self._live += 1
        token = _UNITS.set((self, self._depth() + 1))
        try:
            return await coro
        finally:
            _UNITS.reset(token)
            self._live -= 1

    def alone(self) -> bool:
        """Whether the calling unit is the only one that could make progress: every live unit
        is it or one of its ancestors (which are waiting for it)."""
        return self._live == self._depth()

    # ---- graphs ---------------------------------------------------------------------------
    async def run_graph(
        self, graph: Graph, inputs: literals_pb2.LiteralMap, prefix: str = ""
    ) -> literals_pb2.LiteralMap:
        tmpl = graph.template
        plan = graph.schedule
        nodes, waiting, downstream = plan.nodes, dict(plan.waiting), plan.downstream
        results: dict[str, literals_pb2.LiteralMap] = {"start-node": inputs}
        running: dict[asyncio.Task[literals_pb2.LiteralMap], str] = {}
        ready = [n for n in plan.order if not waiting[n]]
        errors: list[BaseException] = []
        fail_fast = tmpl.metadata.on_failure != FAIL_AFTER

        def succeeded(nid: str, out: literals_pb2.LiteralMap) -> None:
            results[nid] = out
            for d in downstream.get(nid, ()):
                waiting[d] -= 1
                if not waiting[d]:
                    ready.append(d)

        while ready or running:
            if not (errors and fail_fast):
                if len(ready) == 1 and not running:
                    # Nothing to overlap with: run it in this task (no task, no wait).
                    nid = ready.pop()
                    coro = self.run_node(graph, nodes[nid], results, prefix + nid)
                    try:
                        out = await self.run_here(coro)
                    except Exception as err:
                        errors.append(err)
                    else:
                        succeeded(nid, out)
                    continue
                if len(ready) > 1:
                    ready.sort(key=plan.order.index)
                for nid in ready:
                    coro = self.run_node(graph, nodes[nid], results, prefix + nid)
                    running[self.spawn(coro)] = nid
                ready.clear()
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                nid = running.pop(t)
                exc = t.exception()
                if exc is None:
                    succeeded(nid, t.result())
                else:
                    errors.append(exc)
            if errors and fail_fast:
                for t in running:
                    t.cancel()
                await asyncio.gather(*running, return_exceptions=True)
                running.clear()
        if errors:
            if tmpl.HasField("failure_node"):
                fnode = tmpl.failure_node
                # The workflow's own error is the one to report.
                with contextlib.suppress(ExecutionError):
                    await self.run_node(graph, fnode, results, prefix + fnode.id)
            raise errors[0]
        out = literals_pb2.LiteralMap()
        for b in tmpl.outputs:
            out.literals[b.var].CopyFrom(self.resolve(graph, b.binding, results))
        return out

    def resolve(
        self,
        graph: Graph,
        data: literals_pb2.BindingData,
        results: Mapping[str, literals_pb2.LiteralMap],
    ) -> literals_pb2.Literal:
        kind = data.WhichOneof("value")
        if kind == "scalar":
            return literals_pb2.Literal(scalar=data.scalar)
        if kind == "collection":
            return literals_pb2.Literal(
                collection=literals_pb2.LiteralCollection(
                    literals=[self.resolve(graph, b, results) for b in data.collection.bindings]
                )
            )
        if kind == "map":
            return literals_pb2.Literal(
                map=literals_pb2.LiteralMap(
                    literals={
                        k: self.resolve(graph, b, results) for k, b in data.map.bindings.items()
                    }
                )
            )
        if kind == "union":
            return self.resolve(graph, data.union.value, results)
        ref = data.promise
        lit = results[ref.node_id].literals[ref.var]
        if not ref.attr_path:
            return lit
        t = graph.output_types[ref.node_id][ref.var]
        steps = [a.int_value if a.HasField("int_value") else a.string_value for a in ref.attr_path]
        # Walk the literal itself, as the engine does remotely: no Python classes needed.
        return select(lit, engine().literal_type(t), steps)[0]

    @staticmethod
    def node_inputs(resolved: Mapping[str, literals_pb2.Literal]) -> literals_pb2.LiteralMap:
        out = literals_pb2.LiteralMap()
        for var, lit in resolved.items():
            out.literals[var].CopyFrom(lit)
        return out

    async def run_node(
        self,
        graph: Graph,
        node: workflow_pb2.Node,
        results: Mapping[str, literals_pb2.LiteralMap],
        path: str,
    ) -> literals_pb2.LiteralMap:
        from skyloom.local import nodes

        name = node.metadata.name or node.id
        target = node.WhichOneof("target")
        # A map's inputs go as they are, not copied into a LiteralMap: they are often lists of
        # thousands, and its items only read them.
        loose = {b.var: self.resolve(graph, b.binding, results) for b in node.inputs}
        inputs = literals_pb2.LiteralMap() if target == "array_node" else self.node_inputs(loose)
        if target == "task_node":
            task = graph.entities[node.task_node.reference_id.name]
            return await self.run_task(task, inputs, path, node)
        self.event(path, name, "RUNNING")
        try:
            if target == "workflow_node":
                out = await nodes.run_workflow_node(self, graph, node, inputs, path)
            elif target == "branch_node":
                out = await nodes.run_branch(self, graph, node, inputs, results, path)
            elif target == "gate_node":
                out = await nodes.run_gate(self, graph, node, inputs, path)
            elif target == "array_node":
                out = await nodes.run_array(self, graph, node, loose, path)
            else:
                raise ExecutionError(f"node {path}: unknown target {target}", node_id=path)
        except ExecutionError as err:
            self.event(path, name, "FAILED", message=str(err))
            raise
        self.event(path, name, "SUCCEEDED")
        return out

    # ---- tasks ----------------------------------------------------------------------------
    def spec(self, task: Any, node: workflow_pb2.Node | None) -> TaskSpec:
        return spec_of(task, node)

    async def run_task(
        self,
        task: Any,
        inputs: literals_pb2.LiteralMap,
        path: str,
        node: workflow_pb2.Node | None = None,
    ) -> literals_pb2.LiteralMap:
        """Cache lookup, then attempts with retries; cache put on success."""
        name = node.metadata.name if node is not None and node.metadata.name else task.short_name
        runner = getattr(task, "run_local", None)
        if runner is not None:  # reference tasks and other non-Python targets
            result: literals_pb2.LiteralMap = await runner(self, inputs, path)
            return result
        spec = self.spec(task, node)
        cache_cfg = spec.cache
        if cache_cfg is None:
            return await self._attempts(task, inputs, path, name, spec)
        key = cache_key(task.shared_template, inputs, cache_cfg)
        lock = self._locks.setdefault(key, asyncio.Lock()) if cache_cfg.serialize else None
        if lock is not None:
            await lock.acquire()
        try:
            hit = None
            if not self.config.overwrite_cache:
                try:
                    hit = self.config.cache.get(key)
                except (OSError, DecodeError) as err:  # a lookup failure is a miss, as remotely
                    self.event(path, name, "CACHE_LOOKUP_FAILURE", message=str(err))
            if hit is not None:
                self.event(path, name, "CACHED", message=f"cache key {key[:12]}")
                return hit
            out = await self._attempts(task, inputs, path, name, spec)
            try:
                self.config.cache.put(key, out)
            except OSError as err:  # the outputs are good; only memoization is lost
                self.event(path, name, "CACHE_PUT_FAILURE", message=str(err))
            return out
        finally:
            if lock is not None:
                lock.release()

    def params(self, task: Any, path: str, attempt: int) -> ExecutionParameters:
        """An attempt's context; its directories are worked out when asked for."""
        return ExecutionParameters(
            self.execution_id, path, task.name, attempt, run_dir=self._run_dir
        )

    def again(self, failure: att.Failure, counts: list[int], retries: int) -> bool:
        """Whether a failed attempt is retried; ``counts`` is [user, system] failures so far."""
        if failure.kind == "SYSTEM":
            counts[1] += 1
            return counts[1] <= self.config.max_system_retries
        counts[0] += 1
        return failure.retryable and counts[0] <= retries

    async def _attempts(
        self, task: Any, inputs: literals_pb2.LiteralMap, path: str, name: str, spec: TaskSpec
    ) -> literals_pb2.LiteralMap:
        counts = [0, 0]
        attempt = 0
        while True:
            params = self.params(task, path, attempt)
            self.event(path, name, "RUNNING", attempt)
            try:
                if self._slots is not None:
                    async with self._slots:
                        out = await self._one_attempt(task, inputs, params, spec, path)
                else:
                    out = await self._one_attempt(task, inputs, params, spec, path)
            except ExecutionError as err:  # a dynamic task's sub-graph failed
                self.event(path, name, "FAILED", attempt, str(err))
                raise
            except Exception as exc:
                f = att.classify(task, exc)
                if self.again(f, counts, spec.retries):
                    self.event(path, name, "RETRYING", attempt, f.message)
                    attempt += 1
                    continue
                self.event(path, name, "FAILED", attempt, f.message)
                error = att.attempt_error(task, path, attempt, f)
                raise error from error.__cause__
            deck = att.write_deck(params, params.working_dir) if params.decks else None
            self.event(path, name, "SUCCEEDED", attempt, deck=deck)
            return out

    async def _one_attempt(
        self,
        task: Any,
        inputs: literals_pb2.LiteralMap,
        params: ExecutionParameters,
        spec: TaskSpec,
        path: str,
    ) -> literals_pb2.LiteralMap:
        raw = self.raw_dir
        kwargs = att.load_inputs(task, inputs, raw)
        if not spec.is_async and spec.timeout is None and self.alone():
            result = att.call_inline(task, kwargs, params)
        else:
            result = await att.call_function(task, kwargs, params, spec.timeout, self.pool())
        if task.is_dynamic:
            graph: Graph = result
            return await self.run_graph(graph, literals_pb2.LiteralMap(), path + ".")
        return att.to_output_map(task.py_interface, result, raw, f"task {task.short_name}")
