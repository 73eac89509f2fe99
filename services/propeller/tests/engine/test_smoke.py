from __future__ import annotations

from skyloom_idl.core import execution_pb2, literals_pb2

from ._build import bind, compile_, ints, promise, task, task_node, workflow
from ._sim import Sim

WF = execution_pb2.WorkflowExecution.Phase


def add_one(inputs: literals_pb2.LiteralMap, attempt: int) -> literals_pb2.LiteralMap:
    return ints(o0=inputs.literals["x"].scalar.primitive.integer + 1)


def test_chain() -> None:
    t = task("inc")
    wf = workflow(
        "wf",
        [task_node("a", t, x=promise("start-node", "x")), task_node("b", t, x=promise("a"))],
        bind(o=promise("b")),
        out_types={"o": t.interface.outputs.variables["o0"].type},
    )
    sim = Sim(compile_(wf, [t]), ints(x=1), {"inc": add_one})
    state = sim.run()
    assert state.phase == WF.PHASE_SUCCEEDED
    assert sim.outputs().literals["o"].scalar.primitive.integer == 3
