"""The local DAG scheduler: runs a compiled graph with the semantics of a remote run.

Nodes start as soon as their upstream nodes (from the compiled connections) succeed, so
independent nodes run concurrently; sync task bodies run in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from skyloom._engine import engine
from skyloom._errors import ExecutionError, TaskTimeoutError
from skyloom._source import strip_sdk_frames
from skyloom.core.graph import Graph
from skyloom.local import attempt as att
from skyloom.local.cache import LocalCache, cache_key
from skyloom.local.context import Checkpoint, ExecutionParameters
from skyloom.types.attr_path import select
from skyloom_idl.core import literals_pb2, workflow_pb2

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


class Executor:
    """Runs graphs and tasks of one local execution."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.execution_id = "local-" + uuid.uuid4().hex[:12]
        env = os.environ.get("SKYLOOM_LOCAL_RUNS")
        base = config.run_dir or (Path(env) if env else Path.home() / ".skyloom" / "local-runs")
        self.run_dir = base / self.execution_id
        # Files and directories the run produces or is given (the local raw-data store).
        self.raw_dir = self.run_dir / "raw"
        self.decks: dict[str, Path] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(config.max_parallelism) if config.max_parallelism else None
        self._threads: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        """Threads for sync task bodies without a timeout (starting a thread per task is
        most of the per-task overhead); bodies with a timeout get a daemon thread each."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=32, thread_name_prefix="skyloom-task")
        return self._threads

    def close(self) -> None:
        """Release the worker threads; idempotent."""
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None

    def limit(self, max_parallelism: int) -> None:
        """Run at most ``max_parallelism`` task attempts at once (0: no limit)."""
        self._slots = asyncio.Semaphore(max_parallelism) if max_parallelism else None

    def emit(self, event: NodeEvent) -> None:
        if event.deck is not None:
            self.decks[event.node_id] = event.deck
        if self.config.on_event is not None:
            self.config.on_event(event)

    # ---- graphs ---------------------------------------------------------------------------
    async def run_graph(
        self, graph: Graph, inputs: literals_pb2.LiteralMap, prefix: str = ""
    ) -> literals_pb2.LiteralMap:
        tmpl = graph.template
        nodes = graph.nodes()
        ups = graph.compiled.connections.upstream
        upstream = {nid: set(ups[nid].ids) if nid in ups else set() for nid in nodes}
        order = [n for n in graph.compiled.topological_order if n in nodes] or list(nodes)
        results: dict[str, literals_pb2.LiteralMap] = {"start-node": inputs}
        running: dict[asyncio.Task[literals_pb2.LiteralMap], str] = {}
        pending = list(order)
        errors: list[BaseException] = []
        fail_fast = tmpl.metadata.on_failure != FAIL_AFTER
        while pending or running:
            if not (errors and fail_fast):
                for nid in [n for n in pending if upstream[n] <= results.keys()]:
                    pending.remove(nid)
                    coro = self.run_node(graph, nodes[nid], results, prefix + nid)
                    running[asyncio.create_task(coro)] = nid
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                nid = running.pop(t)
                exc = t.exception()
                if exc is None:
                    results[nid] = t.result()
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

    def node_inputs(
        self, graph: Graph, node: workflow_pb2.Node, results: Mapping[str, literals_pb2.LiteralMap]
    ) -> literals_pb2.LiteralMap:
        out = literals_pb2.LiteralMap()
        for b in node.inputs:
            out.literals[b.var].CopyFrom(self.resolve(graph, b.binding, results))
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
        inputs = self.node_inputs(graph, node, results)
        target = node.WhichOneof("target")
        if target == "task_node":
            task = graph.entities[node.task_node.reference_id.name]
            return await self.run_task(task, inputs, path, node)
        self.emit(NodeEvent(path, name, "RUNNING"))
        try:
            if target == "workflow_node":
                out = await nodes.run_workflow_node(self, graph, node, inputs, path)
            elif target == "branch_node":
                out = await nodes.run_branch(self, graph, node, inputs, results, path)
            elif target == "gate_node":
                out = await nodes.run_gate(self, graph, node, inputs, path)
            elif target == "array_node":
                out = await nodes.run_array(self, graph, node, inputs, path)
            else:
                raise ExecutionError(f"node {path}: unknown target {target}", node_id=path)
        except ExecutionError as err:
            self.emit(NodeEvent(path, name, "FAILED", message=str(err)))
            raise
        self.emit(NodeEvent(path, name, "SUCCEEDED"))
        return out

    # ---- tasks ----------------------------------------------------------------------------
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
        tmpl = task.template
        ov = node.task_node.overrides if node is not None and node.HasField("task_node") else None
        cache_cfg = ov.cache if ov is not None and ov.HasField("cache") else tmpl.metadata.cache
        if not cache_cfg.enabled:
            return await self._attempts(task, inputs, path, name, ov)
        key = cache_key(tmpl, inputs, cache_cfg)
        lock = self._locks.setdefault(key, asyncio.Lock()) if cache_cfg.serialize else None
        if lock is not None:
            await lock.acquire()
        try:
            hit = None
            if not self.config.overwrite_cache:
                try:
                    hit = self.config.cache.get(key)
                except (OSError, DecodeError) as err:  # a lookup failure is a miss, as remotely
                    self.emit(NodeEvent(path, name, "CACHE_LOOKUP_FAILURE", message=str(err)))
            if hit is not None:
                self.emit(NodeEvent(path, name, "CACHED", message=f"cache key {key[:12]}"))
                return hit
            out = await self._attempts(task, inputs, path, name, ov)
            try:
                self.config.cache.put(key, out)
            except OSError as err:  # the outputs are good; only memoization is lost
                self.emit(NodeEvent(path, name, "CACHE_PUT_FAILURE", message=str(err)))
            return out
        finally:
            if lock is not None:
                lock.release()

    async def _attempts(
        self, task: Any, inputs: literals_pb2.LiteralMap, path: str, name: str, ov: Any
    ) -> literals_pb2.LiteralMap:
        tmpl = task.template
        retries = (
            ov.retries.retries
            if ov is not None and ov.HasField("retries")
            else tmpl.metadata.retries.retries
        )
        tmo = ov.timeout if ov is not None and ov.HasField("timeout") else tmpl.metadata.timeout
        limit = tmo.ToTimedelta().total_seconds() or None
        user_failures = system_failures = 0
        attempt = 0
        node_dir = self.run_dir / path
        while True:
            work = node_dir / str(attempt)
            prev = node_dir / str(attempt - 1) / "checkpoint" if attempt else None
            params = ExecutionParameters(
                self.execution_id, path, task.name, attempt, work,
                Checkpoint(work / "checkpoint", prev),
            )  # fmt: skip
            self.emit(NodeEvent(path, name, "RUNNING", attempt))
            try:
                if self._slots is not None:
                    async with self._slots:
                        out = await self._one_attempt(task, inputs, params, limit, path)
                else:
                    out = await self._one_attempt(task, inputs, params, limit, path)
            except ExecutionError as err:  # a dynamic task's sub-graph failed
                self.emit(NodeEvent(path, name, "FAILED", attempt, str(err)))
                raise
            except Exception as exc:
                f = att.classify(task, exc)
                if f.kind == "SYSTEM":
                    system_failures += 1
                    again = system_failures <= self.config.max_system_retries
                else:
                    user_failures += 1
                    again = f.retryable and user_failures <= retries
                if again:
                    self.emit(NodeEvent(path, name, "RETRYING", attempt, f.message))
                    attempt += 1
                    continue
                self.emit(NodeEvent(path, name, "FAILED", attempt, f.message))
                budget = f"attempt {attempt + 1}" + (
                    "" if f.retryable or f.kind == "SYSTEM" else ", not retryable"
                )
                error_type = TaskTimeoutError if f.code == "TimeoutExpired" else ExecutionError
                raise error_type(
                    f"task {task.short_name} ({task.location}) failed in node {path} ({budget}): "
                    f"{f.message}",
                    node_id=path,
                    code=f.code,
                    kind=f.kind,
                    retryable=f.retryable,
                ) from strip_sdk_frames(exc)
            deck = att.write_deck(params, work)
            self.emit(NodeEvent(path, name, "SUCCEEDED", attempt, deck=deck))
            return out

    async def _one_attempt(
        self,
        task: Any,
        inputs: literals_pb2.LiteralMap,
        params: ExecutionParameters,
        limit: float | None,
        path: str,
    ) -> literals_pb2.LiteralMap:
        raw = self.raw_dir
        kwargs = att.load_inputs(task, inputs, raw)
        result = await att.call_function(task, kwargs, params, limit, self._pool())
        if getattr(task, "is_dynamic", False):
            graph: Graph = result
            return await self.run_graph(graph, literals_pb2.LiteralMap(), path + ".")
        return att.to_output_map(task.py_interface, result, raw, f"task {task.short_name}")
