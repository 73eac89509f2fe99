"""A sync body that is the only runnable thing runs on the loop's thread: nothing a task can
observe changes, and anything that could run alongside it still does."""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar

import pytest

from skyloom import TaskTimeoutError, current_context, task, workflow

_LEAK: ContextVar[str] = ContextVar("leak", default="clean")


def test_a_chain_task_with_a_timeout_still_times_out() -> None:
    release = threading.Event()

    @task
    def first(x: int) -> int:
        return x + 1

    @task(timeout=0.1)
    def hangs(x: int) -> int:
        release.wait(5)
        return x

    @workflow
    def wf(x: int) -> int:
        return hangs(x=first(x=x))

    try:
        with pytest.raises(TaskTimeoutError, match=r"timeout of 0\.1s"):
            wf(x=1)
    finally:
        release.set()


def test_a_body_running_alone_may_call_asyncio_run_and_run_a_workflow() -> None:
    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    @task
    def inner(x: int) -> int:
        return x + 1

    @workflow
    def sub(x: int) -> int:
        return inner(x=x)

    @task
    def uses_asyncio(x: int) -> int:
        return asyncio.run(fetch(x)) + sub(x=x)

    @workflow
    def wf(x: int) -> int:
        return uses_asyncio(x=uses_asyncio(x=x))

    assert wf(x=1) == 13  # 3x + 1, twice


def test_what_a_body_sets_in_its_context_stays_in_its_attempt() -> None:
    seen: list[str] = []

    @task
    def leaky(x: int) -> int:
        seen.append(_LEAK.get())
        _LEAK.set("dirty")
        return x + 1

    @workflow
    def wf(x: int) -> int:
        return leaky(x=leaky(x=x))

    assert wf(x=0) == 2
    assert seen == ["clean", "clean"]
    assert _LEAK.get() == "clean"


def test_each_chain_task_sees_its_own_context() -> None:
    nodes: list[tuple[str, int]] = []

    @task
    def where(x: int) -> int:
        ctx = current_context()
        nodes.append((ctx.node_id, ctx.attempt))
        return x + 1

    @workflow
    def wf(x: int) -> int:
        return where(x=where(x=x))

    assert wf(x=0) == 2
    assert nodes == [("n0", 0), ("n1", 0)]


def test_a_sync_node_overlaps_an_async_sibling() -> None:
    barrier = threading.Barrier(2, timeout=5)

    @task
    def sync_side() -> str:
        barrier.wait()  # passes only while the async side waits too
        return "s"

    @task
    async def async_side() -> str:
        await asyncio.to_thread(barrier.wait)
        return "a"

    @workflow
    def wf() -> tuple[str, str]:
        return sync_side(), async_side()

    assert wf() == ("s", "a")


def test_a_node_overlaps_a_task_inside_a_sibling_subworkflow() -> None:
    barrier = threading.Barrier(2, timeout=5)

    @task
    def meet(name: str) -> str:
        barrier.wait()
        return name

    @workflow
    def sub(name: str) -> str:
        return meet(name=name)

    @workflow
    def wf() -> tuple[str, str]:
        return meet(name="top"), sub(name="nested")

    assert wf() == ("top", "nested")
