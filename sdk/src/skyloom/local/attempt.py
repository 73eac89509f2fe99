"""One attempt of a task: literals in, the author's function, literals out.

Shared by the local executor and ``skyloom-execute``, so both convert data identically.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skyloom._engine import engine, transfer_context
from skyloom._errors import ExecutionError, RetryableError, TaskTimeoutError
from skyloom._source import author_traceback, strip_sdk_frames
from skyloom.local.context import ExecutionParameters, render_decks, reset_context, set_context
from skyloom.types import (
    InterfaceError,
    PythonInterface,
    TransferContext,
    TypeEngine,
    TypeTransformerError,
)
from skyloom.types.primitives import PrimitiveTransformer
from skyloom_idl.core import execution_pb2, literals_pb2


@dataclass
class Failure:
    """A failed attempt, classified as remotely: kind, code, retryable."""

    kind: str  # "USER" | "SYSTEM"
    code: str
    message: str
    retryable: bool
    exc: BaseException

    def to_proto(self) -> execution_pb2.ErrorDocument:
        kind = (
            execution_pb2.ExecutionError.ERROR_KIND_SYSTEM
            if self.kind == "SYSTEM"
            else execution_pb2.ExecutionError.ERROR_KIND_USER
        )
        return execution_pb2.ErrorDocument(
            error=execution_pb2.ExecutionError(
                code=self.code, message=self.message, kind=kind, retryable=self.retryable
            ),
            traceback=author_traceback(self.exc),
        )


class InputConversionError(Exception):
    """Inputs could not be read: a system error (the platform handed over bad data)."""


class OutputConversionError(Exception):
    """The function returned something that does not match its declared outputs."""


def classify(task: Any, exc: BaseException) -> Failure:
    if isinstance(exc, InputConversionError):
        return Failure("SYSTEM", "InputConversionError", str(exc), True, exc)
    if getattr(exc, "_skyloom_timeout", False):
        return Failure("USER", "TimeoutExpired", str(exc), True, exc)
    code = type(exc).__name__
    if isinstance(exc, RetryableError) and exc.__cause__ is not None:
        code = type(exc.__cause__).__name__
    return Failure("USER", code, f"{type(exc).__name__}: {exc}", task.is_retryable(exc), exc)


def load_inputs(task: Any, inputs: literals_pb2.LiteralMap, raw_dir: Path) -> dict[str, Any]:
    return convert_inputs(task, inputs.literals, engine(), transfer_context(raw_dir))


def convert_inputs(
    task: Any, literals: Mapping[str, literals_pb2.Literal], eng: TypeEngine, ctx: TransferContext
) -> dict[str, Any]:
    """The body's keyword arguments from input literals (defaults for missing ones)."""
    out: dict[str, Any] = {}
    for name, t in task.py_interface.inputs.items():
        if name not in literals:
            if name in task.py_interface.defaults:
                out[name] = task.py_interface.defaults[name]
                continue
            raise InputConversionError(f"input '{name}' of {task.short_name} is missing")
        try:
            out[name] = eng.to_python(literals[name], t, ctx)
        except Exception as err:
            raise InputConversionError(f"input '{name}' of {task.short_name}: {err}") from err
    return out


def to_output_map(
    iface: PythonInterface, result: Any, raw_dir: Path, owner: str
) -> literals_pb2.LiteralMap:
    """Declared outputs from a returned value (one value, or a tuple for several)."""
    lits = output_literals(iface, result, engine(), transfer_context(raw_dir), owner)
    out = literals_pb2.LiteralMap()
    for name, lit in zip(iface.outputs, lits, strict=True):
        out.literals[name].CopyFrom(lit)
    return out


def output_literals(
    iface: PythonInterface, result: Any, eng: TypeEngine, ctx: TransferContext, owner: str
) -> list[literals_pb2.Literal]:
    """The declared outputs' literals, in declaration order, from a returned value."""
    try:
        values = iface.output_values(result)
    except InterfaceError as err:
        outputs = ", ".join(iface.outputs)
        raise OutputConversionError(f"{owner} {err.reason} (outputs: {outputs})") from err
    out = []
    for name, value in values.items():
        try:
            out.append(eng.to_literal(value, iface.outputs[name], ctx))
        except Exception as err:
            raise OutputConversionError(f"output '{name}' of {owner}: {err}") from err
    return out


class Conversions:
    """One task's input and output conversions with each type's transformer looked up once,
    for running many attempts of the task (map items); same results and errors as
    :func:`convert_inputs` and :func:`output_literals`."""

    def __init__(self, task: Any, eng: TypeEngine, ctx: TransferContext) -> None:
        iface: PythonInterface = task.py_interface
        self.task, self.iface, self.ctx = task, iface, ctx
        self.owner = f"task {task.short_name}"
        self.inputs = [(name, t, _resolve(eng, t)) for name, t in iface.inputs.items()]
        self.outputs = [(name, t, _resolve(eng, t)) for name, t in iface.outputs.items()]
        self.one_output = iface.output_tuple is None and len(self.outputs) == 1
        self.scalar_output: PrimitiveTransformer | None = None
        if self.one_output:
            transformer = eng.transformer_for(self.outputs[0][1])
            if type(transformer) is PrimitiveTransformer and transformer.matches(
                self.outputs[0][1]
            ):
                self.scalar_output = transformer
        self.scalar_inputs: dict[str, PrimitiveTransformer] = {}
        for name, t in iface.inputs.items():
            transformer = eng.transformer_for(t)
            if type(transformer) is PrimitiveTransformer and transformer.matches(t):
                self.scalar_inputs[name] = transformer

    def scalar_column(self, name: str, column: Sequence[literals_pb2.Literal]) -> list[Any] | None:
        """Input ``name``'s value for every item, converted in one pass, when it is a scalar
        (immutable, so items may share it) and every literal converts; else None, and each
        item converts its own literal (and reports its own error)."""
        transformer = self.scalar_inputs.get(name)
        if transformer is None:
            return None
        try:
            return transformer.values_of(column, self.ctx)
        except TypeTransformerError:
            return None

    def to_kwargs(
        self,
        literals: Mapping[str, literals_pb2.Literal],
        given: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The body's keyword arguments; ``given`` holds inputs already converted."""
        task, ctx = self.task, self.ctx
        out: dict[str, Any] = {}
        for name, t, conv in self.inputs:
            if given is not None and name in given:
                out[name] = given[name]
                continue
            lit = literals.get(name)
            if lit is None:
                if name in self.iface.defaults:
                    out[name] = self.iface.defaults[name]
                    continue
                raise InputConversionError(f"input '{name}' of {task.short_name} is missing")
            try:
                out[name] = conv[0](lit, t, ctx)
            except Exception as err:
                raise InputConversionError(f"input '{name}' of {task.short_name}: {err}") from err
        return out

    def to_literals(self, result: Any) -> list[literals_pb2.Literal]:
        if not self.one_output:
            return output_literals(self.iface, result, engine(), self.ctx, self.owner)
        name, t, conv = self.outputs[0]
        try:
            return [conv[1](result, t, self.ctx)]
        except Exception as err:
            raise OutputConversionError(f"output '{name}' of {self.owner}: {err}") from err


def _resolve(eng: TypeEngine, t: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(to_python, to_literal) for hint ``t``: its transformer's when that takes ``t`` as is
    (what the engine's dispatch finds), else the engine's own."""
    transformer = eng.transformer_for(t)
    if transformer.matches(t):
        return transformer.to_python, transformer.to_literal
    return eng.to_python, eng.to_literal


def from_output_map(iface: PythonInterface, lm: literals_pb2.LiteralMap, raw_dir: Path) -> Any:
    """Python value(s) a call returns: None, one value, a tuple or the declared NamedTuple."""
    eng, ctx = engine(), transfer_context(raw_dir)
    return iface.pack_outputs(
        {n: eng.to_python(lm.literals[n], t, ctx) for n, t in iface.outputs.items()}
    )


async def call_function(
    task: Any,
    kwargs: dict[str, Any],
    params: ExecutionParameters,
    limit: float | None,
    pool: Executor | None = None,
) -> Any:
    """Run the author's function (sync bodies in a thread) within ``timeout`` seconds."""

    def run_sync() -> Any:
        token = set_context(params)
        try:
            return task.execute(**kwargs)
        finally:
            reset_context(token)

    async def run_async() -> Any:
        token = set_context(params)
        try:
            return await task.execute(**kwargs)
        finally:
            reset_context(token)

    coro: Awaitable[Any]
    if inspect.iscoroutinefunction(task.fn):
        coro = run_async()
    elif limit or pool is None:
        coro = in_thread(run_sync)  # may be abandoned on timeout: a daemon thread of its own
    else:
        coro = asyncio.get_running_loop().run_in_executor(
            pool, contextvars.copy_context().run, run_sync
        )
    if not limit:
        return await coro
    try:
        return await asyncio.wait_for(coro, limit)
    except TimeoutError as err:
        # A sync body cannot be interrupted; its thread is abandoned, as a pod would be killed.
        exc = TimeoutError(f"{task.short_name} ran longer than its timeout of {limit:g}s")
        exc._skyloom_timeout = True  # type: ignore[attr-defined]
        raise exc from err


def call_inline(task: Any, kwargs: dict[str, Any], params: ExecutionParameters) -> Any:
    """Run a sync body on the calling thread, the event loop's, without a timeout.

    For when nothing else in the run could make progress meanwhile, so a thread would only
    add two hand-offs. The loop is hidden from the body during the call, as it would be in a
    worker thread: a body may itself call ``asyncio.run`` or run a workflow.
    """

    def run() -> Any:
        set_context(params)  # in a copy of the context: nothing the body sets leaks out
        return task.execute(**kwargs)

    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        return contextvars.copy_context().run(run)
    finally:
        asyncio.events._set_running_loop(loop)


def attempt_error(task: Any, path: str, attempt: int, f: Failure) -> ExecutionError:
    """The error a node raises when its last attempt failed; the author's exception (with
    the SDK's frames dropped) is its ``__cause__``."""
    budget = f"attempt {attempt + 1}" + (
        "" if f.retryable or f.kind == "SYSTEM" else ", not retryable"
    )
    error_type = TaskTimeoutError if f.code == "TimeoutExpired" else ExecutionError
    err = error_type(
        f"task {task.short_name} ({task.location}) failed in node {path} ({budget}): {f.message}",
        node_id=path,
        code=f.code,
        kind=f.kind,
        retryable=f.retryable,
    )
    err.__cause__ = strip_sdk_frames(f.exc)
    err.__suppress_context__ = True
    return err


async def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a daemon thread of its own (with this context).

    Not the loop's default executor: a body abandoned after a timeout must not keep
    ``asyncio.run`` (and so the caller) waiting at shutdown.
    """
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()
    ctx = contextvars.copy_context()

    def settle(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)

    def target() -> None:
        try:
            outcome = (True, ctx.run(fn))
        except BaseException as err:  # handed to the awaiting coroutine
            outcome = (False, err)
        # The run may be over (an abandoned, timed-out body): then nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=target, name="skyloom-task", daemon=True).start()
    return await fut


def write_deck(params: ExecutionParameters, out_dir: Path) -> Path | None:
    if not any(d.html for d in params.decks):
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "deck.html"
    path.write_text(render_decks(params.task_name, params.decks), encoding="utf-8")
    return path
