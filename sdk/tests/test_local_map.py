"""Map items of a plain sync task run on lanes (skyloom.local.fastmap): per-item retries,
errors, contexts, decks and events stay those of a task node, and items that block still
overlap, within the map's concurrency."""

from __future__ import annotations

import asyncio
import functools
import threading
from contextvars import ContextVar
from pathlib import Path

import pytest

from skyloom import (
    Deck,
    ExecutionError,
    LocalConfig,
    NodeEvent,
    RetryableError,
    TaskTimeoutError,
    current_context,
    execute,
    map_task,
    task,
    workflow,
)

from ._helpers import ConcurrencyMeter

_LEAK: ContextVar[str] = ContextVar("leak", default="clean")


def test_items_are_retried_one_by_one_within_their_budget() -> None:
    attempts: dict[int, list[int]] = {}
    lock = threading.Lock()

    @task(retries=2)
    def flaky(x: int) -> int:
        with lock:
            attempts.setdefault(x, []).append(current_context().attempt)
        if x % 2 and len(attempts[x]) < 3:
            raise RetryableError(f"item {x} not yet")
        return x * 10

    assert map_task(flaky)(x=[0, 1, 2, 3]) == [0, 10, 20, 30]
    assert attempts == {0: [0], 1: [0, 1, 2], 2: [0], 3: [0, 1, 2]}


def test_a_failed_item_is_none_under_min_success_ratio_and_fails_the_map_otherwise() -> None:
    @task(retries=3)
    def picky(x: int) -> int:
        if x == 2:
            raise ValueError("two is bad")
        return x

    assert map_task(picky, min_success_ratio=0.5)(x=[1, 2, 3]) == [1, None, 3]
    with pytest.raises(ExecutionError, match=r"2 of 3 items succeeded, 3 needed") as info:
        map_task(picky)(x=[1, 2, 3])
    cause = info.value.__cause__
    assert isinstance(cause, ExecutionError)
    assert cause.node_id == "n0.1"
    assert "not retryable" in str(cause)  # a ValueError: one attempt despite retries=3
    assert isinstance(cause.__cause__, ValueError)


def test_items_that_block_still_run_at_once() -> None:
    barrier = threading.Barrier(3, timeout=5)

    @task
    def meet(x: int) -> int:
        barrier.wait()  # passes only when three items run at the same time
        return x

    assert map_task(meet)(x=[1, 2, 3]) == [1, 2, 3]


def test_concurrency_caps_items_that_block() -> None:
    barrier = threading.Barrier(3, timeout=5)
    meter = ConcurrencyMeter()

    @task
    def meet(x: int) -> int:
        with meter:
            barrier.wait()
        return x

    assert map_task(meet, concurrency=3)(x=list(range(6))) == list(range(6))
    assert meter.peak == 3


def test_each_item_has_its_own_context_checkpoint_and_deck(tmp_path: Path) -> None:
    seen: dict[str, list[tuple[int, bytes | None, str]]] = {}
    lock = threading.Lock()

    @task(retries=1)
    def resumable(x: int) -> int:
        ctx = current_context()
        with lock:
            seen.setdefault(ctx.node_id, []).append(
                (ctx.attempt, ctx.checkpoint.restore(), _LEAK.get())
            )
        _LEAK.set("dirty")
        if ctx.checkpoint.restore() is None:
            ctx.checkpoint.save(f"item {x}".encode())
            raise RetryableError("preempted")
        Deck("report").append(f"<p>{x}</p>")
        return x

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(resumable)(x=xs)

    result = execute(wf, {"xs": [7, 8]}, config=LocalConfig(run_dir=tmp_path))
    assert result.value == [7, 8]
    assert seen == {
        "n0.0": [(0, None, "clean"), (1, b"item 7", "clean")],
        "n0.1": [(0, None, "clean"), (1, b"item 8", "clean")],
    }
    assert "<p>8</p>" in result.decks["n0.1"].read_text()
    assert result.decks["n0.1"].parent == result.run_dir / "n0.1" / "1"


def test_item_events_reach_a_listener_on_the_callers_thread() -> None:
    events: list[tuple[str, str, int, bool]] = []
    caller = threading.current_thread()

    def listen(ev: NodeEvent) -> None:
        events.append((ev.node_id, ev.phase, ev.attempt, threading.current_thread() is caller))

    @task(retries=1)
    def once_flaky(x: int) -> int:
        if current_context().attempt == 0 and x == 1:
            raise RetryableError("again")
        return x

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(once_flaky)(x=xs)

    assert execute(wf, {"xs": [0, 1]}, config=LocalConfig(on_event=listen)).value == [0, 1]
    assert all(on_caller for *_, on_caller in events)
    items = sorted(e[:3] for e in events if e[0].startswith("n0."))
    assert items == [
        ("n0.0", "RUNNING", 0),
        ("n0.0", "SUCCEEDED", 0),
        ("n0.1", "RETRYING", 0),
        ("n0.1", "RUNNING", 0),
        ("n0.1", "RUNNING", 1),
        ("n0.1", "SUCCEEDED", 1),
    ]


def test_items_with_a_timeout_or_an_async_body_take_the_general_path() -> None:
    release = threading.Event()

    @task(timeout=0.1)
    def slow(x: int) -> int:
        if x == 1:
            release.wait(5)
        return x

    try:
        with pytest.raises(ExecutionError, match=r"1 of 2 items succeeded") as info:
            map_task(slow)(x=[0, 1])
    finally:
        release.set()
    assert isinstance(info.value.__cause__, TaskTimeoutError)

    @task
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    assert map_task(double)(x=[1, 2]) == [2, 4]


def test_slow_items_do_not_hold_up_fast_ones() -> None:
    finished: list[int] = []
    released: list[bool] = []
    lock = threading.Lock()
    release = threading.Event()

    @task
    def item(x: int) -> int:
        if x == 0:
            released.append(release.wait(5))  # stuck until every other item is done
        else:
            with lock:
                finished.append(x)
                if len(finished) == 9:
                    release.set()
        return x

    assert map_task(item)(x=list(range(10))) == list(range(10))
    assert released == [True]  # the others ran while item 0 waited


def test_items_may_return_several_outputs_or_none() -> None:
    @task
    def split(x: int) -> tuple[int, str]:
        return x * 2, f"#{x}"

    @task
    def nothing(x: int) -> None:
        return None

    @workflow
    def wf(xs: list[int]) -> tuple[list[int], list[str]]:
        map_task(nothing)(x=xs)
        return map_task(split)(x=xs)

    assert wf(xs=[1, 2]) == ([2, 4], ["#1", "#2"])


def test_items_that_run_workflows_with_parallel_nodes_do_not_starve() -> None:
    outer = threading.Barrier(3, timeout=5)

    @task
    def side(x: int, tag: str) -> str:
        return f"{tag}{x}"

    @task
    def join(a: str, b: str) -> str:
        return a + b

    @workflow
    def pair(x: int) -> str:
        return join(a=side(x=x, tag="a"), b=side(x=x, tag="b"))

    @task
    def nested(x: int) -> str:
        outer.wait()  # three items at once, each then runs a workflow of its own
        return pair(x=x)

    assert map_task(nested)(x=[1, 2, 3]) == ["a1b1", "a2b2", "a3b3"]


def test_scalar_inputs_and_outputs_convert_once_with_per_item_checks() -> None:
    """Scalar columns convert in one pass; a value that does not convert as it is still goes
    through its item's own conversion (widened, or that item's error)."""

    class Small(int):
        pass

    @task
    def widen(x: int) -> float:
        return x  # an int for a float output: widened per item

    @task
    def odd(x: int) -> int:
        return Small(x) if x % 2 else x  # an int subclass: converted per item

    @task(retries=2)
    def wrong(x: int) -> int:
        if x == 2:
            return "two"  # type: ignore[return-value]
        return x

    @task
    def scaled(x: int, by: float, tag: str) -> str:
        return f"{tag}{x * by}"

    assert map_task(widen)(x=[1, 2]) == [1.0, 2.0]
    assert all(type(v) is float for v in map_task(widen)(x=[1, 2]))
    assert map_task(odd)(x=[1, 2, 3]) == [1, 2, 3]
    assert map_task(wrong, min_success_ratio=0.5)(x=[1, 2, 3]) == [1, None, 3]
    with pytest.raises(ExecutionError, match=r"2 of 3 items succeeded") as info:
        map_task(wrong)(x=[1, 2, 3])
    cause = info.value.__cause__
    assert isinstance(cause, ExecutionError)
    assert cause.node_id == "n0.1"
    assert "output 'o0'" in str(cause)
    assert map_task(functools.partial(scaled, by=0.5, tag="#"))(x=[2, 4]) == ["#1.0", "#2.0"]
    assert map_task(scaled)(x=[1], by=[2.0], tag=["a"]) == ["a2.0"]
    assert map_task(widen)(x=[]) == []
