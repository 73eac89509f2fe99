"""The persisted state: round trip, a 100,000-item map's footprint, determinism, and replay
after a simulated crash never launching an attempt twice."""

from __future__ import annotations

import copy
import random
import tracemalloc

import pytest

from skyloom_idl.core import execution_pb2, literals_pb2, workflow_pb2
from skyloom_propeller import commands as c
from skyloom_propeller.engine import evaluate
from skyloom_propeller.state import ArrayState, ErrorInfo, ExecutionState, from_bytes, to_bytes

from ._build import INT, bind, compile_, int_list, ints, list_of, promise, task, task_node, workflow
from ._sim import Sim

WF = execution_pb2.WorkflowExecution.Phase


def test_round_trip() -> None:
    s = ExecutionState("p", "d", "e", "u://in", "u://data", max_parallelism=3)
    n = s.node("a.b")
    n.phase, n.attempts, n.error = 5, 2, ErrorInfo("X", "m", 1, True, "u://err")
    n.detail["taken"] = "x"
    n.array = ArrayState.new(5)
    n.array.phases[3] = 2
    n.array.started[1] = 12.5
    again = from_bytes(to_bytes(s))
    assert again == s
    assert to_bytes(again) == to_bytes(s)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown execution state format"):
        from_bytes(b'{"v": 99, "state": {}}')


def _big_map(n: int) -> Sim:
    t = task("sq")
    arr = workflow_pb2.ArrayNode(
        node=workflow_pb2.Node(id="m-item", task_node=workflow_pb2.TaskNode(reference_id=t.id)),
        parallelism=200,
    )
    m = workflow_pb2.Node(id="m", inputs=bind(x=promise("start-node", "xs")), array_node=arr)
    wf = workflow(
        "wf", [m], bind(o=promise("m")), inputs={"xs": list_of(INT)}, out_types={"o": list_of(INT)}
    )
    inputs = literals_pb2.LiteralMap()
    inputs.literals["xs"].CopyFrom(int_list(range(n)))
    return Sim(compile_(wf, [t]), inputs, {"sq": lambda i, a: ints(o0=1)}, durations={"sq": 1})


def test_state_of_a_100k_item_map_is_compact() -> None:
    n = 100_000
    sim = _big_map(n)
    for _ in range(4):
        sim.complete_due()
        sim.round()
        sim.now += 1
    arr = sim.state.nodes["m"].array
    assert arr is not None
    assert arr.phases.count(2) >= 200
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        held = copy.deepcopy(sim.state)
        per_item = (tracemalloc.get_traced_memory()[0] - before) / n
    finally:
        tracemalloc.stop()
    assert held.nodes["m"].array is not None
    assert per_item < 200, f"{per_item:.1f} bytes per item"
    assert len(to_bytes(sim.state)) / n < 32


def _random_world(seed: int) -> Sim:
    rng = random.Random(seed)
    t = task("t", retries=2)
    nodes = []
    for i in range(8):
        ups = [f"n{j}" for j in range(i) if rng.random() < 0.3]
        binding = promise(ups[0]) if ups else promise("start-node", "x")
        nodes.append(task_node(f"n{i}", t, upstream=ups[1:], x=binding))
    outcomes = {f"n{i}": [rng.choice(["ok", "user", "sys"]) for _ in range(8)] for i in range(8)}

    def body(inputs: literals_pb2.LiteralMap, attempt: int) -> literals_pb2.LiteralMap:
        return ints(o0=inputs.literals["x"].scalar.primitive.integer + 1)

    sim = Sim(
        compile_(workflow("wf", nodes, []), [t]), ints(x=0), {"t": body},
        durations={"t": 2}, max_parallelism=3,
    )  # fmt: skip
    sim.decide = lambda cmd: outcomes[cmd.node_path][cmd.retry_attempt]
    return sim


@pytest.mark.parametrize("seed", range(12))
def test_replay_after_a_crash_never_launches_a_launched_attempt_again(seed: int) -> None:
    sim = _random_world(seed)
    for _ in range(200):
        sim.complete_due()
        sim.round()  # persist-then-execute: the state is saved, then commands run
        # Crash now; a new engine loads the persisted bytes and re-evaluates with what the
        # backends report (adoption fills the view): no attempt the backend knows is launched.
        restored = from_bytes(to_bytes(sim.state))
        _, again = evaluate(restored, sim.closure, sim.view, sim.now, sim.config)
        known = set(sim.view.attempts)
        relaunched = [
            x.attempt_id for x in again if isinstance(x, c.LaunchAttempt) and x.attempt_id in known
        ]
        assert relaunched == []
        if sim.state.phase in (WF.PHASE_SUCCEEDED, WF.PHASE_FAILED):
            break
        sim.now += 1
    ids = [x.attempt_id for x in sim.launches]
    assert len(ids) == len(set(ids))
    for path, st in sim.state.nodes.items():
        assert sum(1 for x in sim.launches if x.node_path == path) == st.attempts


def test_a_launch_lost_in_a_crash_is_reissued_with_the_same_id() -> None:
    t = task("t")
    wf = workflow("wf", [task_node("a", t, x=promise("start-node", "x"))], [])
    sim = Sim(compile_(wf, [t]), ints(x=1), {"t": lambda i, a: ints(o0=1)})
    state, cmds = evaluate(sim.state, sim.closure, sim.view, sim.now)
    first = [x for x in cmds if isinstance(x, c.LaunchAttempt)]
    # Crash after persisting, before the launch reached the backend.
    _, again = evaluate(from_bytes(to_bytes(state)), sim.closure, sim.view, sim.now + 5)
    second = [x for x in again if isinstance(x, c.LaunchAttempt)]
    assert [x.attempt_id for x in second] == [x.attempt_id for x in first]


def test_same_inputs_same_commands() -> None:
    logs = []
    for _ in range(2):
        sim = _random_world(3)
        sim.run()
        logs.append(sim.log)
    assert logs[0] == logs[1]
    ids = [x.event.event_id for x in logs[0] if isinstance(x, c.EmitEvent)]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids))


def test_evaluate_does_not_mutate_its_input() -> None:
    sim = _random_world(1)
    frozen = to_bytes(sim.state)
    evaluate(sim.state, sim.closure, sim.view, sim.now)
    assert to_bytes(sim.state) == frozen


def test_a_missing_blob_is_raised_not_a_user_failure() -> None:
    from skyloom_propeller.context import BlobMissing

    t = task("t")
    wf = workflow("wf", [task_node("a", t, x=promise("start-node", "x"))], [])
    sim = Sim(compile_(wf, [t]), ints(x=1), {"t": lambda i, a: ints(o0=1)})
    sim.view.blobs.clear()
    sim.view.absent.add(sim.state.inputs_uri)
    with pytest.raises(BlobMissing, match=r"inputs\.pb is missing"):
        evaluate(sim.state, sim.closure, sim.view, sim.now)
