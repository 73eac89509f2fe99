"""Retries (both budgets), interruptible, timeouts, max parallelism, failure policies, the
on-failure node, abort, recovery and the cache — all against the fake world, no servers."""

from __future__ import annotations

import pytest

from skyloom_idl.core import catalog_pb2, execution_pb2, literals_pb2, workflow_pb2
from skyloom_idl.event import event_pb2
from skyloom_propeller.config import EngineConfig
from skyloom_propeller.engine import request_abort
from skyloom_propeller.view import Recovery

from ._build import bind, compile_, ints, promise, task, task_node, workflow
from ._sim import SYSTEM, Fail, Sim, Vanish

WF = execution_pb2.WorkflowExecution.Phase
NODE = execution_pb2.NodeExecution.Phase
TASK = execution_pb2.TaskExecution.Phase
FAIL_AFTER = workflow_pb2.WorkflowMetadata.ON_FAILURE_POLICY_FAIL_AFTER_EXECUTABLE_NODES_COMPLETE


def ok(inputs: literals_pb2.LiteralMap, attempt: int) -> literals_pb2.LiteralMap:
    return ints(o0=inputs.literals["x"].scalar.primitive.integer * 10)


def one(t: object, **kw: object) -> Sim:
    from skyloom_idl.core import tasks_pb2

    assert isinstance(t, tasks_pb2.TaskTemplate)
    wf = workflow("wf", [task_node("n", t, x=promise("start-node", "x"))], [])
    return Sim(compile_(wf, [t]), ints(x=1), **kw)  # type: ignore[arg-type]


def failing_until(n: int, exc: Exception) -> object:
    def body(inputs: literals_pb2.LiteralMap, attempt: int) -> literals_pb2.LiteralMap:
        if attempt < n:
            raise exc
        return ok(inputs, attempt)

    return body


def test_non_retryable_user_error_fails_at_once_despite_retries() -> None:
    sim = one(task("t", retries=3), bodies={"t": failing_until(9, Fail("ValueError"))})
    state = sim.run()
    assert state.phase == WF.PHASE_FAILED
    assert len(sim.launches) == 1
    assert state.error is not None
    assert state.error.code == "ValueError"


def test_retryable_user_error_uses_the_user_budget() -> None:
    sim = one(task("t", retries=2), bodies={"t": failing_until(2, Fail("Flaky", retryable=True))})
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert [x.retry_attempt for x in sim.launches] == [0, 1, 2]


def test_user_budget_exhaustion_code() -> None:
    sim = one(task("t", retries=1), bodies={"t": failing_until(9, Fail("Flaky", retryable=True))})
    state = sim.run()
    assert len(sim.launches) == 2
    assert state.error is not None
    assert state.error.code == "RetriesExhausted|Flaky"
    assert state.nodes["n"].user_failures == 2


def test_retry_all_errors_retries_non_retryable_user_errors() -> None:
    t = task("t", retries=1, retry_all=True)
    sim = one(t, bodies={"t": failing_until(1, Fail("ValueError"))})
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert len(sim.launches) == 2


def test_system_errors_spend_their_own_budget() -> None:
    # No user retries at all, yet two lost processes are retried from the system budget.
    sim = one(task("t", retries=0), bodies={"t": failing_until(2, Vanish())})
    state = sim.run()
    assert state.phase == WF.PHASE_SUCCEEDED
    assert state.nodes["n"].system_failures == 2
    assert state.nodes["n"].user_failures == 0


def test_system_budget_exhaustion() -> None:
    sim = one(
        task("t", retries=5),
        bodies={"t": failing_until(99, Vanish())},
        config=EngineConfig(max_system_failures=2),
    )
    state = sim.run()
    assert len(sim.launches) == 2
    assert state.error is not None
    assert state.error.code == "RetriesExhausted|ProcessVanished"
    assert state.error.kind == SYSTEM


def test_interruptible_except_the_last_attempt() -> None:
    t = task("t", retries=2, interruptible=True)
    sim = one(t, bodies={"t": failing_until(2, Fail("Preempted", retryable=True))})
    sim.run()
    assert [x.interruptible for x in sim.launches] == [True, True, False]


def test_timeout_is_a_retryable_user_error_and_aborts_the_attempt() -> None:
    t = task("t", retries=1, timeout_s=5)
    sim = one(t, bodies={"t": ok}, durations={"t": 60})
    state = sim.run()
    assert state.phase == WF.PHASE_FAILED
    assert state.error is not None
    assert state.error.code == "RetriesExhausted|TimeoutExpired"
    assert sim.aborted == [x.attempt_id for x in sim.launches]
    assert len(sim.launches) == 2
    # The engine asked to be woken at the deadline instead of polling.
    assert 1005.0 in sim.wakes
    timed_out = [
        e for e in sim.events(event_pb2.TaskExecutionEvent)
        if e.phase == TASK.PHASE_TIMED_OUT  # type: ignore[attr-defined]
    ]  # fmt: skip
    assert len(timed_out) == 2


def test_max_parallelism_bounds_running_attempts() -> None:
    t = task("t")
    nodes = [task_node(f"n{i}", t, x=promise("start-node", "x")) for i in range(6)]
    sim = Sim(
        compile_(workflow("wf", nodes, []), [t]), ints(x=1), {"t": ok},
        durations={"t": 3}, max_parallelism=2,
    )  # fmt: skip
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert sim.peak == 2
    assert len(sim.launches) == 6


def _two_branches(on_failure: int, failure_node: workflow_pb2.Node | None = None) -> Sim:
    bad, slow = task("bad"), task("slow")
    nodes = [
        task_node("a", bad, x=promise("start-node", "x")),
        task_node("b", slow, x=promise("start-node", "x")),
        task_node("c", slow, x=promise("b")),
    ]
    wf = workflow("wf", nodes, [], on_failure=on_failure, failure_node=failure_node)
    cleanup = task("cleanup")
    return Sim(
        compile_(wf, [bad, slow, cleanup]), ints(x=1),
        {"bad": failing_until(9, Fail("Boom")), "slow": ok, "cleanup": ok},
        durations={"slow": 5, "bad": 1},
    )  # fmt: skip


def test_fail_immediately_aborts_running_nodes() -> None:
    sim = _two_branches(0)
    state = sim.run()
    assert state.phase == WF.PHASE_FAILED
    assert state.nodes["b"].phase == NODE.PHASE_ABORTED
    assert "c" not in state.nodes
    assert sim.aborted == [state.nodes["b"].handle]


def test_fail_after_executable_nodes_complete() -> None:
    sim = _two_branches(FAIL_AFTER)
    state = sim.run()
    assert state.phase == WF.PHASE_FAILED
    assert state.nodes["b"].phase == NODE.PHASE_SUCCEEDED
    assert state.nodes["c"].phase == NODE.PHASE_SUCCEEDED
    assert state.error is not None
    assert state.error.code == "Boom"


def test_failure_node_runs_then_the_workflow_fails() -> None:
    cleanup = task("cleanup")
    fnode = task_node("cleanup", cleanup, x=promise("start-node", "x"))
    sim = _two_branches(0, fnode)
    state = sim.run()
    assert state.phase == WF.PHASE_FAILED
    assert state.nodes["failure.cleanup"].phase == NODE.PHASE_SUCCEEDED
    phases = [e.phase for e in sim.events(event_pb2.WorkflowExecutionEvent)]  # type: ignore[attr-defined]
    assert phases == [WF.PHASE_RUNNING, WF.PHASE_FAILING, WF.PHASE_FAILED]


def test_abort_stops_running_attempts_and_marks_nodes_aborted() -> None:
    t = task("t")
    nodes = [task_node(f"n{i}", t, x=promise("start-node", "x")) for i in range(3)]
    sim = Sim(compile_(workflow("wf", nodes, []), [t]), ints(x=1), {"t": ok}, durations={"t": 50})
    sim.round()
    assert len(sim.running) == 3
    sim.state = request_abort(sim.state, "user asked")
    sim.round()
    assert sim.state.phase == WF.PHASE_ABORTED
    assert sorted(sim.aborted) == sorted(x.attempt_id for x in sim.launches)
    assert all(sim.state.nodes[f"n{i}"].phase == NODE.PHASE_ABORTED for i in range(3))
    assert sim.round() == []  # terminal: nothing more


def test_recovery_reuses_outputs_of_nodes_that_succeeded() -> None:
    t = task("t")
    nodes = [task_node("a", t, x=promise("start-node", "x")), task_node("b", t, x=promise("a"))]
    wf = workflow(
        "wf", nodes, bind(o=promise("b")), out_types={"o": t.interface.outputs.variables["o0"].type}
    )
    sim = Sim(compile_(wf, [t]), ints(x=1), {"t": ok}, recover_from="orig")
    sim.view.blobs["mem://orig/a/0/outputs.pb"] = ints(o0=7)
    sim.view.recoveries["a"] = Recovery(True, "mem://orig/a/0/outputs.pb")
    sim.view.recoveries["b"] = Recovery(False)
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert [x.node_path for x in sim.launches] == ["b"]
    assert sim.state.nodes["a"].phase == NODE.PHASE_RECOVERED
    assert sim.outputs().literals["o"].scalar.primitive.integer == 70


def test_cache_hit_skips_the_task_and_reports_hit() -> None:
    t = task("t", cache=True)
    from skyloom_core.cache_key import cache_key

    key = cache_key(t, ints(x=1))
    sim = one(t, bodies={"t": ok}, cache_hits={key.tag: ints(o0=42)})
    state = sim.run()
    assert state.phase == WF.PHASE_SUCCEEDED
    assert sim.launches == []
    assert state.nodes["n"].cache_status == catalog_pb2.CATALOG_CACHE_STATUS_HIT


def test_cache_miss_runs_then_puts() -> None:
    sim = one(task("t", cache=True), bodies={"t": ok})
    state = sim.run()
    assert len(sim.launches) == 1
    assert len(sim.cache_puts) == 1
    assert sim.cache_puts[0].outputs_uri.endswith("n/0/outputs.pb")
    assert state.nodes["n"].cache_status == catalog_pb2.CATALOG_CACHE_STATUS_POPULATED


def test_cache_serialize_waits_while_another_owner_runs_it() -> None:
    t = task("t", cache=True, serialize=True)
    from skyloom_core.cache_key import cache_key

    sim = one(t, bodies={"t": ok})
    sim.round()  # lookup
    key = next(k for k in [sim.state.nodes["n"].detail.get("cache_key")] if k)
    sim.view.reservations[key] = False  # someone else holds it
    for _ in range(3):
        sim.round()
        sim.now += 10
    assert sim.launches == []
    # The other owner finished: the cache now hits.
    sim.cache_hits[cache_key(t, ints(x=1)).tag] = ints(o0=5)
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert sim.launches == []


@pytest.mark.parametrize("kind", ["user", "system"])
def test_event_ids_are_deterministic_per_attempt(kind: str) -> None:
    exc: Exception = Fail("F", retryable=True) if kind == "user" else Vanish()
    sim = one(task("t", retries=1), bodies={"t": failing_until(1, exc)})
    sim.run()
    ids = [e.event_id for e in sim.events(event_pb2.TaskExecutionEvent)]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids))
