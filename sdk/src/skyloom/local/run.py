"""Calling a task or workflow outside a workflow body: a local execution."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skyloom._engine import engine, transfer_context
from skyloom._errors import SkyloomError
from skyloom.local.attempt import from_output_map
from skyloom.local.executor import Executor, LocalConfig
from skyloom_idl.core import literals_pb2

_CONFIG: ContextVar[LocalConfig | None] = ContextVar("skyloom_local_config", default=None)


@contextlib.contextmanager
def local_config(config: LocalConfig) -> Iterator[LocalConfig]:
    """Use ``config`` for local runs started in this context (signals, cache, progress)."""
    token = _CONFIG.set(config)
    try:
        yield config
    finally:
        _CONFIG.reset(token)


@dataclass
class RunResult:
    """A finished local execution."""

    execution_id: str
    outputs: literals_pb2.LiteralMap
    value: Any
    run_dir: Path
    decks: dict[str, Path] = field(default_factory=dict)


def to_input_map(
    entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any], raw_dir: Path
) -> literals_pb2.LiteralMap:
    """Python arguments → the inputs LiteralMap, checked against the interface."""
    iface = entity.py_interface
    names = list(iface.inputs)
    where = f"{entity.kind} {entity.short_name} ({entity.location})"
    if len(args) > len(names):
        raise TypeError(f"{where} takes {len(names)} inputs, got {len(args)} positional arguments")
    values = dict(zip(names, args, strict=False))
    for k, v in kwargs.items():
        if k not in iface.inputs:
            raise TypeError(f"{where} has no input '{k}' (inputs: {', '.join(names) or 'none'})")
        values[k] = v
    defaults = iface.defaults
    eng, ctx = engine(), transfer_context(raw_dir)
    out = literals_pb2.LiteralMap()
    for name in names:
        if name not in values:
            if name not in defaults:
                raise TypeError(f"{where} is missing input '{name}'")
            values[name] = defaults[name]
        try:
            out.literals[name].CopyFrom(eng.to_literal(values[name], iface.inputs[name], ctx))
        except (TypeError, ValueError) as err:
            raise TypeError(f"{where}: input '{name}': {err}") from err
    return out


def execute(
    entity: Any, inputs: dict[str, Any] | None = None, *, config: LocalConfig | None = None
) -> RunResult:
    """Run a task, workflow or launch plan locally and return outputs, decks and where it ran."""
    cfg = config or _CONFIG.get() or LocalConfig()
    ex = Executor(cfg)
    lm = to_input_map(entity, (), dict(inputs or {}), ex.raw_dir)
    try:
        outputs = _run_sync(_start(ex, entity, lm))
    finally:
        ex.close()
    value = from_output_map(entity.py_interface, outputs, ex.raw_dir)
    return RunResult(ex.execution_id, outputs, value, ex.run_dir, dict(ex.decks))


def run_entity(entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``entity(*args, **kwargs)`` outside a body: a local run returning Python values."""
    cfg = _CONFIG.get() or LocalConfig()
    ex = Executor(cfg)
    lm = to_input_map(entity, args, kwargs, ex.raw_dir)
    try:
        outputs = _run_sync(_start(ex, entity, lm))
    except SkyloomError as err:
        # Drop the SDK's own frames: what the author needs is the message and the cause chain.
        raise err.with_traceback(None) from err.__cause__
    finally:
        ex.close()
    return from_output_map(entity.py_interface, outputs, ex.raw_dir)


async def _start(ex: Executor, entity: Any, lm: literals_pb2.LiteralMap) -> literals_pb2.LiteralMap:
    ex.enter()
    if entity.kind == "launch plan":
        runner = getattr(entity, "run_local", None)
        if runner is not None:
            result: literals_pb2.LiteralMap = await runner(ex, lm, "n0")
            return result
        if entity.max_parallelism:
            ex.limit(entity.max_parallelism)
        return await ex.run_graph(entity.workflow.graph, entity.literal_inputs(lm, ex.raw_dir))
    graph = getattr(entity, "graph", None)
    if graph is not None:
        return await ex.run_graph(graph, lm)
    return await ex.run_task(entity, lm, "n0")


def _run_sync(coro: Any) -> Any:
    """Run a coroutine to completion, also from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        box: list[Any] = []
        # The main task returns None: asyncio.run's SIGINT bookkeeping reprs the task (its
        # result included) twice per run, which for a large LiteralMap cost milliseconds.
        asyncio.run(_boxed(coro, box))
        return box[0]
    out: dict[str, Any] = {}
    ctx = copy_context()

    def target() -> None:
        try:
            out["value"] = ctx.run(_run_sync, coro)
        except BaseException as err:
            out["error"] = err

    t = threading.Thread(target=target, name="skyloom-local-run")
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


async def _boxed(coro: Any, box: list[Any]) -> None:
    box.append(await coro)
