"""Map items of a plain sync task, run in a loop on worker threads ("lanes").

What an item does is what a task node does (:meth:`Executor._attempts`): inputs converted from
literals, the body in its own context with its own ``current_context()``, outputs converted,
per-item retries with the same budgets and error classification, decks, and node events when
someone listens. What it saves is the per-item machinery of the general path: an asyncio task,
a hand-off to a thread and back, and a LiteralMap in and out.

Concurrency: one lane starts; whenever every lane has been on its current item for longer than
``GROW_AFTER`` at two looks in a row (a blocking or slow body), the lanes double, up to the
map's ``concurrency`` and the executor's pool size. Fast items thus run in one tight loop, while
slow ones still overlap as they do on the general path.

Used only for sync tasks without a timeout (an attempt that may be abandoned needs a thread of
its own), without caching (the per-key locks live on the loop) and without the executor's
``max_parallelism`` (a lane would hold a slot across many items).
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import itertools
import time
from typing import TYPE_CHECKING, Any

from skyloom._engine import engine, transfer_context
from skyloom.local import attempt as att
from skyloom.local.context import ExecutionParameters, set_context
from skyloom.local.threads import POOL_SIZE
from skyloom_idl.core import literals_pb2, workflow_pb2

if TYPE_CHECKING:
    from skyloom.local.executor import Executor, NodeEvent
    from skyloom.local.taskspec import TaskSpec
    from skyloom.types import TransferContext
    from skyloom.types.primitives import PrimitiveTransformer

GROW_AFTER = 0.01
"""Seconds every lane must have spent on its current item before more lanes start. Long
enough that a descheduled thread or a GC pause on a busy machine rarely counts as a blocked
body (needless lanes only contend for the GIL), short beside anything that truly blocks."""

Outcome = list[literals_pb2.Literal] | tuple[object] | BaseException
"""An item's output literals, its error, or, for a task whose one output is a scalar, the
value in a 1-tuple: checked to convert as it is, and converted with the others in one pass
(:func:`fill`)."""


def eligible(ex: Executor, target: Any, inner: workflow_pb2.Node) -> TaskSpec | None:
    """The task's spec if its items can run on lanes, else None (the general path)."""
    if not inner.HasField("task_node") or ex.limited:
        return None
    if getattr(target, "run_local", None) is not None or getattr(target, "is_dynamic", True):
        return None
    spec = ex.spec(target, inner)
    if spec.is_async or spec.timeout is not None or spec.cache is not None:
        return None
    return spec


class _Items:
    """One map's items, shared by its lanes; the loop only reads it."""

    def __init__(
        self,
        ex: Executor,
        task: Any,
        spec: TaskSpec,
        fixed: dict[str, literals_pb2.Literal],
        mapped: dict[str, list[literals_pb2.Literal]],
        n: int,
        path: str,
        name: str,
    ) -> None:
        self.ex, self.task, self.spec = ex, task, spec
        self.conv = att.Conversions(task, engine(), transfer_context(ex.raw_dir))
        # Scalar columns convert once for all items; the others per item, per attempt.
        self.values: list[tuple[str, list[Any]]] = []
        self.mapped: list[tuple[str, list[literals_pb2.Literal]]] = []
        for var, column in mapped.items():
            values = self.conv.scalar_column(var, column)
            if values is None:
                self.mapped.append((var, column))
            else:
                self.values.append((var, values))
        self.fixed = fixed
        # Every input a scalar column: the item's kwargs are its values, nothing to convert.
        self.direct = not fixed and not self.mapped and len(self.values) == len(self.conv.inputs)
        self.n = n
        self.path, self.name = path, name
        self.outcomes: list[Outcome | None] = [None] * n
        self.claims = itertools.count()  # next() is atomic: each index goes to one lane
        self.claimed = 0
        self.started: list[float | None] = []  # per lane: when its current item started
        self.stop = False
        self.listening = ex.config.on_event is not None
        self.events: collections.deque[NodeEvent] = collections.deque()
        self.run_dir = str(ex.run_dir)

    def lane(self, k: int) -> None:
        """Run items until none is left (in a worker thread)."""
        base = contextvars.copy_context()
        started = self.started
        claims, n = self.claims, self.n
        while not self.stop:
            i = next(claims)
            if i >= n:
                break
            self.claimed = i + 1
            started[k] = time.monotonic()
            self.outcomes[i] = self.item(i, base)
            started[k] = None
        started[k] = None

    def event(
        self, path: str, phase: str, attempt: int, message: str = "", deck: Any = None
    ) -> None:
        from skyloom.local.executor import NodeEvent

        self.events.append(NodeEvent(path, self.name, phase, attempt, message, deck))

    def item(self, i: int, base: contextvars.Context) -> Outcome:
        ex, task = self.ex, self.task
        path = f"{self.path}.{i}"
        literals = self.fixed.copy() if self.fixed else {}
        for var, column in self.mapped:
            literals[var] = column[i]
        given = {var: values[i] for var, values in self.values} if self.values else None
        direct = self.direct
        scalar = self.conv.scalar_output
        counts: list[int] | None = None
        attempt = 0
        while True:
            params = ExecutionParameters(
                ex.execution_id, path, task.name, attempt, run_dir=self.run_dir
            )
            if self.listening:
                self.event(path, "RUNNING", attempt)
            try:
                kwargs = (
                    given if direct and given is not None else self.conv.to_kwargs(literals, given)
                )
                result = base.copy().run(_call, task.execute, kwargs, params)
                out: Outcome
                if scalar is not None and scalar.fits(result):
                    out = (result,)
                else:
                    out = self.conv.to_literals(result)
            except Exception as exc:
                f = att.classify(task, exc)
                counts = counts or [0, 0]
                if ex.again(f, counts, self.spec.retries):
                    if self.listening:
                        self.event(path, "RETRYING", attempt, f.message)
                    attempt += 1
                    continue
                if self.listening:
                    self.event(path, "FAILED", attempt, f.message)
                return att.attempt_error(task, path, attempt, f)
            if params.decks:
                deck = att.write_deck(params, params.working_dir)
                if deck is not None:
                    ex.decks[path] = deck
            else:
                deck = None
            if self.listening:
                self.event(path, "SUCCEEDED", attempt, deck=deck)
            return out

    def flush(self) -> None:
        """Hand queued events to the listener, on the loop's thread."""
        on_event = self.ex.config.on_event
        events = self.events
        while events:
            ev = events.popleft()
            if on_event is not None:
                on_event(ev)


def _call(execute: Any, kwargs: dict[str, Any], params: ExecutionParameters) -> Any:
    set_context(params)  # in a copy of the lane's context: nothing leaks to the next item
    return execute(**kwargs)


def fill(
    column: Any,
    outcomes: list[Outcome],
    j: int,
    none: literals_pb2.Literal,
    scalar: PrimitiveTransformer | None,
    ctx: TransferContext,
) -> None:
    """Append output ``j`` of every item to the repeated field ``column``, ``none`` for a
    failed item; scalar values (1-tuples) in one pass when every item has one."""
    if scalar is not None and all(type(o) is tuple for o in outcomes):
        scalar.extend_literals(column, [o[0] for o in outcomes], ctx)  # type: ignore[index]
        return
    column.extend(
        [
            none
            if isinstance(o, BaseException)
            else scalar.to_literal(o[0], scalar.python_type, ctx)  # type: ignore[arg-type]
            if type(o) is tuple and scalar is not None
            else o[j]
            for o in outcomes
        ]
    )


async def run_items(
    ex: Executor,
    task: Any,
    spec: TaskSpec,
    fixed: dict[str, literals_pb2.Literal],
    mapped: dict[str, list[literals_pb2.Literal]],
    n: int,
    path: str,
    name: str,
    concurrency: int,
) -> tuple[list[Outcome], PrimitiveTransformer | None]:
    """Every item's outcome, in item order, and the transformer of its scalar values (for
    :func:`fill`).

    ``mapped`` holds one literal per item for each mapped input; ``fixed`` inputs go whole
    to every item."""
    items = _Items(ex, task, spec, fixed, mapped, n, path, name)
    if not n:
        return [], None
    cap = min(n, concurrency or POOL_SIZE, POOL_SIZE)
    pool = ex.pool()
    lanes: set[asyncio.Future[None]] = set()

    def add_lane() -> None:
        k = len(items.started)
        items.started.append(None)
        lanes.add(asyncio.wrap_future(pool.submit(contextvars.copy_context().run, items.lane, k)))

    add_lane()
    seen: list[float] = []  # start times of the stuck items at the last look
    try:
        while lanes:
            done, lanes = await asyncio.wait(lanes, timeout=GROW_AFTER / 2)
            items.flush()
            for lane in done:
                lane.result()  # an error here is the SDK's own: let it surface
            now = time.monotonic()
            busy = [s for s in items.started if s is not None]
            stuck = len(busy) == len(lanes) and all(now - s >= GROW_AFTER for s in busy)
            # Stuck at two looks in a row on the same items: a pause of the whole process
            # (GC, the machine) ends between looks, a blocked body does not.
            if stuck and busy == seen and len(items.started) < cap and items.claimed < n:
                for _ in range(min(len(items.started), cap - len(items.started))):
                    add_lane()
                busy = []
            seen = busy if stuck else []
    finally:
        items.stop = True  # cancelled: lanes finish their current item and stop
        items.flush()
    outcomes = [
        o if o is not None else RuntimeError("map item did not run") for o in items.outcomes
    ]
    return outcomes, items.conv.scalar_output
