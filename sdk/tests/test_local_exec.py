"""Local execution keeps remote semantics: cache, retries, timeouts, concurrency, maps, dynamic,
branches, gates, subworkflows, failure handling, and errors in the author's terms."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import threading
import time
from pathlib import Path

import pytest

from skyloom import (
    ExecutionError,
    LaunchPlan,
    LocalConfig,
    RetryableError,
    TaskTimeoutError,
    approve,
    conditional,
    current_context,
    dynamic,
    execute,
    local_config,
    map_task,
    sleep,
    task,
    wait_for_input,
    workflow,
)

from ._helpers import ConcurrencyMeter


def test_cache_hit_skips_the_body_and_respects_version_and_ignored_inputs() -> None:
    calls: list[int] = []

    @task(cache=True, cache_version="1", cache_ignored_inputs=["note"])
    def slow_square(x: int, note: str) -> int:
        calls.append(x)
        return x * x

    assert slow_square(x=3, note="a") == 9
    assert slow_square(x=3, note="b") == 9  # note is ignored: a hit
    assert calls == [3]
    assert slow_square(x=4, note="a") == 16
    assert calls == [3, 4]

    @workflow
    def wf(x: int) -> int:
        return slow_square(x=x, note="wf").with_overrides(cache=True, cache_version="2")

    assert wf(x=3) == 9
    assert calls == [3, 4, 3]  # a new cache version misses


def test_cache_entries_are_files_in_the_cache_dir(tmp_path: Path) -> None:
    @task(cache=True, cache_version="1")
    def one(x: int) -> int:
        return x

    one(x=1)
    files = list((tmp_path / "cache").glob("*/*.pb"))
    assert len(files) == 1


def test_only_retryable_user_errors_are_retried() -> None:
    attempts: list[int] = []

    @task(retries=3)
    def flaky(x: int) -> int:
        attempts.append(current_context().attempt)
        if len(attempts) < 3:
            raise RetryableError("try again")
        return x

    assert flaky(x=5) == 5
    assert attempts == [0, 1, 2]

    plain: list[int] = []

    @task(retries=3)
    def broken(x: int) -> int:
        plain.append(x)
        raise ValueError("bad input")

    with pytest.raises(
        ExecutionError,
        match=r"task broken \(test_local_exec.py:\d+\) failed in node n0 "
        r".*not retryable.*ValueError: bad input",
    ) as info:
        broken(x=1)
    assert plain == [1]
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.kind == "USER"


def test_retry_on_and_exhausted_budget() -> None:
    seen: list[int] = []

    @task(retries=2, retry_on=(ConnectionError,))
    def net() -> int:
        seen.append(1)
        raise ConnectionError("down")

    with pytest.raises(ExecutionError, match="attempt 3"):
        net()
    assert len(seen) == 3


def test_timeout_is_per_attempt_and_retryable() -> None:
    attempts: list[int] = []
    release = threading.Event()

    @task(retries=1, timeout=0.2)
    def stuck() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            release.wait(5)  # first attempt hangs past its timeout
        return "done"

    try:
        assert stuck() == "done"
    finally:
        release.set()
    assert len(attempts) == 2

    @task(timeout=0.1)
    async def forever() -> None:
        await asyncio.sleep(30)

    with pytest.raises(TaskTimeoutError, match=r"timeout of 0\.1s") as info:
        forever()
    assert info.value.code == "TimeoutExpired"
    assert info.value.retryable is True


def test_independent_nodes_run_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=5)
    spans: dict[str, tuple[float, float]] = {}

    @task
    def side(name: str) -> str:
        start = time.monotonic()
        barrier.wait()  # only passes when both run at the same time
        spans[name] = (start, time.monotonic())
        return name

    @task
    def join(a: str, b: str) -> str:
        return a + b

    @workflow
    def wf() -> str:
        return join(a=side(name="a"), b=side(name="b"))

    assert wf() == "ab"
    (a0, a1), (b0, b1) = spans["a"], spans["b"]
    # the intervals overlap
    assert a0 < b1
    assert b0 < a1


def test_map_task_concurrency_cap_and_min_success_ratio() -> None:
    meter = ConcurrencyMeter()

    @task
    def work(x: int) -> int:
        with meter:
            time.sleep(0.02)
        if x % 4 == 3:
            raise ValueError(f"bad item {x}")
        return x

    partial_ok = map_task(work, concurrency=2, min_success_ratio=0.7)
    assert partial_ok(x=list(range(8))) == [0, 1, 2, None, 4, 5, 6, None]
    assert meter.peak <= 2

    strict = map_task(work, min_success_ratio=0.9)
    with pytest.raises(ExecutionError, match=r"6 of 8 items succeeded, 8 needed") as info:
        strict(x=list(range(8)))
    assert isinstance(info.value.__cause__, ExecutionError)


def test_map_over_a_partial() -> None:
    @task
    def power(x: int, exp: int) -> int:
        return x**exp

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(functools.partial(power, exp=3))(x=xs)

    assert wf(xs=[1, 2, 3]) == [1, 8, 27]


def test_dynamic_builds_and_runs_a_graph_from_its_inputs() -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    @dynamic
    def fan(n: int) -> int:
        return total(xs=[double(x=i) for i in range(n)])

    @workflow
    def wf(n: int) -> int:
        return fan(n=n)

    assert wf(n=4) == 12
    assert wf(n=0) == 0


def test_conditional_runs_only_the_chosen_branch_and_fail() -> None:
    ran: list[str] = []

    @task
    def label(name: str) -> str:
        ran.append(name)
        return name

    @workflow
    def wf(x: int) -> str:
        return (
            conditional("size")
            .if_(x > 10)
            .then(label(name="big"))
            .elif_(x == 0)
            .then(label(name="zero"))
            .else_()
            .then(label(name="small"))
        )

    assert [wf(x=11), wf(x=0), wf(x=3)] == ["big", "zero", "small"]
    assert ran == ["big", "zero", "small"]

    @workflow
    def strict(x: int) -> str:
        return (
            conditional("positive").if_(x > 0).then(label(name="ok")).else_().fail("x must be > 0")
        )

    with pytest.raises(ExecutionError, match="x must be > 0"):
        strict(x=-1)


def test_gates_sleep_signals_and_approvals() -> None:
    @task
    def add(a: int, b: int) -> int:
        return a + b

    @workflow
    def wf(x: int) -> int:
        pause = sleep(dt.timedelta(milliseconds=200))
        v = wait_for_input("bonus", timeout=60, expected_type=int)
        total = add(a=x, b=v)
        pause >> total
        return approve(total, "publish", timeout=60)

    start = time.monotonic()
    with local_config(LocalConfig(signals={"bonus": 5}, approvals={"publish": True})):
        assert wf(x=1) == 6
    assert time.monotonic() - start >= 0.2  # the sleep was honoured
    with (
        local_config(LocalConfig(signals={"bonus": 5}, approvals={"publish": False})),
        pytest.raises(ExecutionError, match="approval 'publish' was rejected"),
    ):
        wf(x=1)
    with pytest.raises(ExecutionError, match="input 'bonus' was not given"):
        wf(x=1)


def test_subworkflow_and_launch_plan_with_fixed_inputs() -> None:
    @task
    def mul(a: int, b: int) -> int:
        return a * b

    @workflow
    def child(a: int, b: int = 2) -> int:
        return mul(a=a, b=b)

    lp = LaunchPlan.get_or_create(child, "test_local_exec.child_x10", fixed_inputs={"b": 10})

    @workflow
    def parent(a: int) -> tuple[int, int]:
        return child(a=a), lp(a=a)

    assert parent(a=3) == (6, 30)
    assert lp(a=4) == 40


def test_fail_after_executable_nodes_complete_and_on_failure() -> None:
    finished: list[str] = []

    @task
    def boom() -> int:
        raise RuntimeError("boom")

    @task
    def slow() -> int:
        time.sleep(0.1)
        finished.append("slow")
        return 1

    @task
    def cleanup(tag: str) -> None:
        finished.append(f"cleanup:{tag}")

    @workflow(failure_policy="fail_after_executable_nodes_complete", on_failure=cleanup)
    def wf(tag: str) -> tuple[int, int]:
        return boom(), slow()

    with pytest.raises(ExecutionError, match="RuntimeError: boom") as info:
        wf(tag="t1")
    assert finished == ["slow", "cleanup:t1"]
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.__cause__.__traceback__ is not None


def test_checkpoint_survives_into_the_next_attempt() -> None:
    seen: list[bytes | None] = []

    @task(retries=1)
    def resumable() -> str:
        cp = current_context().checkpoint
        seen.append(cp.restore())
        if cp.restore() is None:
            cp.save(b"step-1")
            raise RetryableError("preempted")
        return "resumed from " + (cp.restore() or b"").decode()

    assert resumable() == "resumed from step-1"
    assert seen == [None, b"step-1"]


def test_decks_are_saved_next_to_outputs(tmp_path: Path) -> None:
    from skyloom import Deck

    @task
    def report(n: int) -> int:
        Deck("table").append(f"<p>n={n}</p>")
        current_context().deck.append("<b>default</b>")
        return n

    @workflow
    def wf(n: int) -> int:
        return report(n=n)

    result = execute(wf, {"n": 7}, config=LocalConfig(run_dir=tmp_path / "runs"))
    assert result.value == 7
    html = result.decks["n0"].read_text()
    assert "<p>n=7</p>" in html
    assert "<b>default</b>" in html
    assert result.decks["n0"].parent.parent.parent == result.run_dir


async def test_calling_a_workflow_inside_a_running_event_loop() -> None:
    @task
    def hi(name: str) -> str:
        return f"hi {name}"

    @workflow
    def wf(name: str) -> str:
        return hi(name=name)

    assert wf(name="loop") == "hi loop"


def test_wrong_python_input_names_the_input() -> None:
    @task
    def needs_int(x: int) -> int:
        return x

    with pytest.raises(TypeError, match=r"task needs_int \(test_local_exec.py:\d+\): input 'x'"):
        needs_int(x="nope")  # type: ignore[arg-type]


def test_output_of_the_wrong_type_is_a_user_error() -> None:
    @task(retries=2)
    def liar() -> int:
        return "not an int"  # type: ignore[return-value]

    with pytest.raises(ExecutionError, match=r"output 'o0' of task liar") as info:
        liar()
    assert info.value.retryable is False


def test_cache_serialize_runs_concurrent_identical_attempts_once() -> None:
    calls: list[int] = []
    lock = threading.Lock()

    @task(cache=True, cache_version="1", cache_serialize=True)
    def expensive(x: int) -> int:
        with lock:
            calls.append(x)
        time.sleep(0.05)
        return x * 10

    @workflow
    def wf(x: int) -> tuple[int, int]:
        return expensive(x=x), expensive(x=x)

    assert wf(x=2) == (20, 20)
    assert calls == [2]


def test_node_override_of_timeout_and_retries_applies_at_run_time() -> None:
    attempts: list[int] = []

    @task
    def sometimes_slow() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            time.sleep(1)
        return len(attempts)

    @workflow
    def wf() -> int:
        return sometimes_slow().with_overrides(timeout=0.1, retries=1)

    assert wf() == 2


def test_the_cause_keeps_the_authors_frames_only() -> None:
    @task
    def parse(s: str) -> int:
        return int(s)

    with pytest.raises(ExecutionError) as info:
        parse(s="x")
    cause = info.value.__cause__
    assert isinstance(cause, ValueError)
    frames = []
    tb = cause.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert frames
    assert all(f.endswith("test_local_exec.py") for f in frames)


def test_map_over_a_subworkflow_and_a_launch_plan() -> None:
    @task
    def inc(x: int) -> int:
        return x + 1

    @workflow
    def twice(x: int, step: int = 1) -> int:
        return inc(x=inc(x=x))

    lp = LaunchPlan.get_or_create(twice, "test_local_exec.twice_lp")

    @workflow
    def wf(xs: list[int]) -> tuple[list[int], list[int]]:
        return map_task(twice, concurrency=2)(x=xs, step=[1] * 3), map_task(lp)(x=xs, step=[0] * 3)

    assert wf(xs=[1, 2, 3]) == ([3, 4, 5], [3, 4, 5])


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from skyloom import Secret

    monkeypatch.setenv("SKYLOOM_SECRETS_AWS_KEY", "s3cr3t")

    @task(secret_requests=[Secret("aws", "key")])
    def uses_secret() -> int:
        return len(current_context().secrets.get("aws", "key"))

    assert uses_secret() == 6

    @task
    def missing() -> str:
        return current_context().secrets.get("db", "password")

    with pytest.raises(ExecutionError, match=r"secret db/password is not available"):
        missing()


def test_launch_plan_max_parallelism_caps_running_tasks() -> None:
    meter = ConcurrencyMeter()

    @task
    def busy(x: int) -> int:
        with meter:
            time.sleep(0.03)
        return x

    @workflow
    def wide(xs: list[int]) -> list[int]:
        return map_task(busy)(x=xs)

    capped = LaunchPlan.get_or_create(wide, "test_local_exec.wide_capped", max_parallelism=2)
    assert capped(xs=list(range(6))) == list(range(6))
    assert meter.peak == 2


def test_map_items_use_the_targets_defaults_for_unbound_inputs() -> None:
    @task
    def shift(x: int, by: int = 100) -> int:
        return x + by

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(shift)(x=xs)

    assert wf(xs=[1, 2]) == [101, 102]


def test_reference_entities_do_not_run_locally() -> None:
    from skyloom import reference_task

    remote = reference_task("p", "d", "remote.task", "v1", inputs={"x": int}, outputs={"o0": int})

    @workflow
    def wf(x: int) -> int:
        return remote(x=x)

    with pytest.raises(
        ExecutionError, match=r"refers to a registered entity and cannot run locally"
    ):
        wf(x=1)


def test_system_errors_have_their_own_budget() -> None:
    from skyloom.local.attempt import InputConversionError

    attempts: list[int] = []

    @task  # no user retries at all
    def handed_bad_data() -> int:
        attempts.append(1)
        if len(attempts) <= 2:  # the platform failed to hand over inputs, twice
            raise InputConversionError("inputs.pb unreadable")
        return len(attempts)

    assert handed_bad_data() == 3

    always: list[int] = []

    @task(retries=5)
    def never_readable() -> int:
        always.append(1)
        raise InputConversionError("inputs.pb unreadable")

    with local_config(LocalConfig(max_system_retries=1)), pytest.raises(ExecutionError) as info:
        never_readable()
    assert len(always) == 2  # 1 + max_system_retries, whatever the user budget
    assert info.value.kind == "SYSTEM"


def test_a_corrupt_cache_entry_is_a_miss_not_a_failure(tmp_path: Path) -> None:
    calls: list[int] = []

    @task(cache=True, cache_version="1")
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    assert square(x=3) == 9
    (entry,) = (tmp_path / "cache").glob("*/*.pb")
    entry.write_bytes(b"\xff\xff not a literal map")
    events: list[str] = []
    with local_config(LocalConfig(on_event=lambda e: events.append(e.phase))):
        assert square(x=3) == 9
    assert calls == [3, 3]
    assert "CACHE_LOOKUP_FAILURE" in events


def test_caching_turned_on_by_an_override_gets_a_version() -> None:
    calls: list[int] = []

    @task
    def plain(x: int) -> int:
        calls.append(x)
        return x

    @workflow
    def wf(x: int) -> int:
        return plain(x=x).with_overrides(cache=True)

    assert wf(x=1) == 1
    assert wf(x=1) == 1
    assert calls == [1]
    override = wf.template.nodes[0].task_node.overrides.cache
    assert override.enabled
    assert override.version.startswith("src-")


def test_map_min_successes_counts_items() -> None:
    @task
    def odd_only(x: int) -> int:
        if x % 2 == 0:
            raise ValueError("even")
        return x

    assert map_task(odd_only, min_successes=2)(x=[1, 2, 3]) == [1, None, 3]
    with pytest.raises(ExecutionError, match=r"1 of 3 items succeeded, 2 needed"):
        map_task(odd_only, min_successes=2)(x=[1, 2, 4])
