"""The round journal: every command round-trips; a crash between persisting a round and running
its commands is repaired by re-running them (they are idempotent)."""

from __future__ import annotations

import random

import pytest

from skyloom_idl.core import execution_pb2, literals_pb2
from skyloom_idl.event import event_pb2
from skyloom_propeller import commands as c
from skyloom_propeller import journal
from skyloom_propeller.engine import evaluate
from skyloom_propeller.state import from_bytes, to_bytes

from ._build import compile_, ints, promise, task, task_node, workflow
from ._sim import Sim

WF = execution_pb2.WorkflowExecution.Phase


def test_every_command_round_trips() -> None:
    t = task("t")
    cmds: list[c.Command] = [
        c.Fetch("u://a", "literals"),
        c.WriteLiterals("u://b", ints(x=3)),
        c.WriteBlob("u://c", b"\x00\x01"),
        c.LaunchAttempt(
            "id", "n", 1, t, "u://i", "u://o", "u://r", t.container.resources, True, 2.5,
            (("A", "1"), ("B", "2")),
        ),
        c.AbortAttempt("id", "why"),
        c.CacheLookup("k", "p", "d", "ds", "v", "tag"),
        c.CachePut("k", "p", "d", "ds", "v", "tag", "u://o", "id"),
        c.Reserve("k", "o"),
        c.ReleaseReservation("k", "o"),
        c.EmitEvent(event_pb2.WorkflowExecutionEvent(event_id="e", phase=WF.PHASE_RUNNING)),
        c.ScheduleWake(12.5),
        c.CreateChildExecution("f123", "p/d/lp@v", "u://i", "n"),
        c.AbortChildExecution("f123", "why"),
        c.WatchSignal("s", "g"),
        c.LookupRecovery("n", "orig"),
    ]  # fmt: skip
    assert journal.unpack(journal.pack(cmds)) == cmds
    state, again = journal.read_record(journal.record(b'{"x":1}', cmds))
    assert (state, again) == (b'{"x":1}', cmds)


def test_unknown_command_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown command type"):
        journal.unpack(b'[{"type": "Explode"}]')


@pytest.mark.parametrize("seed", range(8))
def test_crashes_before_commands_run_are_repaired_by_replaying_the_journal(seed: int) -> None:
    rng = random.Random(seed)
    t = task("t", retries=1)
    nodes = [task_node("a", t, x=promise("start-node", "x"))]
    nodes += [task_node(f"n{i}", t, x=promise("a")) for i in range(4)]
    sim = Sim(
        compile_(workflow("wf", nodes, []), [t]), ints(x=1),
        {"t": lambda i, a: ints(o0=i.literals["x"].scalar.primitive.integer + 1)},
        durations={"t": 1}, max_parallelism=2,
    )  # fmt: skip
    sim.decide = lambda cmd: rng.choice(["ok", "ok", "user"]) if cmd.retry_attempt == 0 else "ok"
    crashes = 0
    for _ in range(300):
        sim.complete_due()
        sim.state, cmds = evaluate(sim.state, sim.closure, sim.view, sim.now, sim.config)
        saved = journal.record(to_bytes(sim.state), cmds)
        if rng.random() < 0.3 or sim.state.round == 2:  # crash before any command ran
            crashes += 1
            state, pending = journal.read_record(saved)
            sim.state = from_bytes(state)
            cmds = pending
        sim.log += cmds
        for cmd in cmds:
            sim.execute(cmd)
        if sim.state.phase in (WF.PHASE_SUCCEEDED, WF.PHASE_FAILED):
            break
        sim.now += 1
    assert crashes > 0
    assert sim.state.phase == WF.PHASE_SUCCEEDED
    ids = [x.attempt_id for x in sim.launches]
    assert len(ids) == len(set(ids))
    for path, st in sim.state.nodes.items():
        assert sum(1 for x in sim.launches if x.node_path == path) == st.attempts
    assert isinstance(sim.view.blobs[sim.state.nodes["a"].inputs_uri], literals_pb2.LiteralMap)
