"""Every node kind against the fake world: start/end, task, branch, subworkflow, gate (sleep,
approve, signal), array, dynamic, launch plan."""

from __future__ import annotations

from google.protobuf import duration_pb2

from skyloom_core.refs import id_key
from skyloom_idl.core import (
    dynamic_job_pb2,
    execution_pb2,
    identifier_pb2,
    literals_pb2,
    workflow_pb2,
)
from skyloom_idl.event import event_pb2
from skyloom_propeller import commands as c
from skyloom_propeller.view import ChildStatus

from ._build import (
    INT,
    bind,
    compile_,
    gt,
    ident,
    iface,
    int_list,
    ints,
    list_of,
    promise,
    task,
    task_node,
    workflow,
)
from ._sim import Fail, Sim

WF = execution_pb2.WorkflowExecution.Phase
NODE = execution_pb2.NodeExecution.Phase


def times(k: int):  # type: ignore[no-untyped-def]
    def body(inputs: literals_pb2.LiteralMap, attempt: int) -> literals_pb2.LiteralMap:
        return ints(o0=inputs.literals["x"].scalar.primitive.integer * k)

    return body


OUT = {"o": INT}


def _value(sim: Sim, var: str = "o") -> int:
    return sim.outputs().literals[var].scalar.primitive.integer


def _branch_wf(x: int) -> Sim:
    big, small = task("big"), task("small")
    br = workflow_pb2.Node(
        id="br",
        inputs=bind(x=promise("start-node", "x")),
        branch_node=workflow_pb2.BranchNode(
            if_else=workflow_pb2.IfElseBlock(
                case=workflow_pb2.IfBlock(
                    condition=gt("x", 5), then_node=task_node("big", big, x=promise("br", "x"))
                ),
                else_node=task_node("small", small, x=promise("br", "x")),
            )
        ),
    )
    wf = workflow("wf", [br], bind(o=promise("br")), out_types=OUT)
    return Sim(compile_(wf, [big, small]), ints(x=x), {"big": times(100), "small": times(2)})


def test_branch_takes_the_first_true_case() -> None:
    sim = _branch_wf(7)
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert _value(sim) == 700
    assert [x.node_path for x in sim.launches] == ["br.big"]


def test_branch_falls_to_else() -> None:
    sim = _branch_wf(1)
    sim.run()
    assert _value(sim) == 2
    assert sim.state.nodes["br"].detail["taken"] == "small"


def test_subworkflow_runs_inline() -> None:
    t = task("t")
    sub = workflow(
        "sub",
        [task_node("s1", t, x=promise("start-node", "x")), task_node("s2", t, x=promise("s1"))],
        bind(o0=promise("s2")),
        out_types={"o0": INT},
    )
    sub.id.resource_type = identifier_pb2.RESOURCE_TYPE_WORKFLOW
    node = workflow_pb2.Node(
        id="sw",
        inputs=bind(x=promise("start-node", "x")),
        workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=sub.id),
    )
    wf = workflow("wf", [node], bind(o=promise("sw")), out_types=OUT)
    sim = Sim(compile_(wf, [t], [sub]), ints(x=3), {"t": times(2)})
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert _value(sim) == 12
    assert [x.node_path for x in sim.launches] == ["sw.s1", "sw.s2"]
    parents = {e.parent_node_metadata.node_id for e in sim.events(event_pb2.NodeExecutionEvent)}  # type: ignore[attr-defined]
    assert "sw" in parents


def _gate_wf(gate: workflow_pb2.GateNode) -> Sim:
    t = task("t")
    g = workflow_pb2.Node(id="g", inputs=bind(x=promise("start-node", "x")), gate_node=gate)
    after = task_node("after", t, x=promise("g", "x"))
    wf = workflow("wf", [g, after], bind(o=promise("after")), out_types=OUT)
    return Sim(compile_(wf, [t]), ints(x=4), {"t": times(1)})


def test_sleep_gate_waits_for_its_timer_without_polling() -> None:
    sleep = workflow_pb2.SleepCondition(duration=duration_pb2.Duration(seconds=30))
    sim = _gate_wf(workflow_pb2.GateNode(sleep=sleep))
    cmds = sim.round()
    assert c.ScheduleWake(1030.0) in cmds
    assert sim.state.nodes["g"].phase == NODE.PHASE_WAITING
    sim.now = 1029.0
    sim.round()
    assert sim.launches == []
    sim.now = 1030.0
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert _value(sim) == 4


def test_approve_gate() -> None:
    approve = workflow_pb2.ApproveCondition(signal_id="ok-to-ship")
    sim = _gate_wf(workflow_pb2.GateNode(approve=approve))
    cmds = sim.round()
    assert c.WatchSignal("ok-to-ship", "g") in cmds
    sim.round()
    assert sim.state.nodes["g"].phase == NODE.PHASE_WAITING
    sim.view.signals["ok-to-ship"] = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(boolean=True))
    )
    assert sim.run().phase == WF.PHASE_SUCCEEDED


def test_rejected_approval_fails() -> None:
    sim = _gate_wf(workflow_pb2.GateNode(approve=workflow_pb2.ApproveCondition(signal_id="s")))
    sim.view.signals["s"] = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(boolean=False))
    )
    state = sim.run()
    assert state.phase == WF.PHASE_FAILED
    assert state.error is not None
    assert state.error.code == "Rejected"


def test_signal_gate_outputs_the_value() -> None:
    t = task("t")
    sig = workflow_pb2.SignalCondition(signal_id="n", type=INT, output_variable_name="o0")
    g = workflow_pb2.Node(id="g", gate_node=workflow_pb2.GateNode(signal=sig))
    after = task_node("after", t, x=promise("g"))
    wf = workflow("wf", [g, after], bind(o=promise("after")), out_types=OUT)
    sim = Sim(compile_(wf, [t]), ints(x=0), {"t": times(3)})
    sim.round()
    sim.view.signals["n"] = ints(v=11).literals["v"]
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert _value(sim) == 33


def _array_wf(
    n: int, *, parallelism: int = 0, ratio: float | None = None, retries: int = 0
) -> tuple[Sim, object]:
    t = task("sq", retries=retries)
    arr = workflow_pb2.ArrayNode(
        node=workflow_pb2.Node(id="m-item", task_node=workflow_pb2.TaskNode(reference_id=t.id)),
        parallelism=parallelism,
    )
    if ratio is not None:
        arr.min_success_ratio = ratio
    m = workflow_pb2.Node(
        id="m",
        inputs=bind(x=promise("start-node", "xs"), y=promise("start-node", "y")),
        array_node=arr,
    )
    t.interface.inputs.variables["y"].type.CopyFrom(INT)
    wf = workflow(
        "wf", [m], bind(o=promise("m")), inputs={"xs": list_of(INT), "y": INT},
        out_types={"o": list_of(INT)},
    )  # fmt: skip
    inputs = literals_pb2.LiteralMap()
    inputs.literals["xs"].CopyFrom(int_list(range(n)))
    inputs.literals["y"].scalar.primitive.integer = 1000
    return Sim(compile_(wf, [t]), inputs, {}, durations={"sq": 2}), t


def _sq(inputs: literals_pb2.LiteralMap, attempt: int) -> literals_pb2.LiteralMap:
    x = inputs.literals["x"].scalar.primitive.integer
    return ints(o0=x * x + inputs.literals["y"].scalar.primitive.integer)


def test_array_maps_lists_broadcasts_scalars_and_bounds_parallelism() -> None:
    sim, _ = _array_wf(7, parallelism=3)
    sim.bodies["sq"] = _sq
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    got = [x.scalar.primitive.integer for x in sim.outputs().literals["o"].collection.literals]
    assert got == [i * i + 1000 for i in range(7)]
    assert sim.peak == 3


def test_array_item_retries_and_min_success_ratio() -> None:
    sim, _ = _array_wf(10, ratio=0.7, retries=1)

    def body(inputs: literals_pb2.LiteralMap, attempt: int) -> literals_pb2.LiteralMap:
        x = inputs.literals["x"].scalar.primitive.integer
        if x < 3:
            raise Fail("Bad", retryable=True)  # items 0-2 fail on every attempt
        if x == 5 and attempt == 0:
            raise Fail("Flaky", retryable=True)  # item 5 succeeds on its retry
        return _sq(inputs, attempt)

    sim.bodies["sq"] = body
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    out = sim.outputs().literals["o"].collection.literals
    assert [o.HasField("scalar") and o.scalar.HasField("none_type") for o in out[:4]] == [
        True,
        True,
        True,
        False,
    ]
    arr = sim.state.nodes["m"].array
    assert arr is not None
    assert list(arr.user_failures) == [2, 2, 2, 0, 0, 1, 0, 0, 0, 0]
    assert sorted(x.node_path for x in sim.launches if x.retry_attempt == 1) == [
        "m.0",
        "m.1",
        "m.2",
        "m.5",
    ]


def test_array_fails_once_min_successes_is_out_of_reach() -> None:
    sim, _ = _array_wf(4, ratio=1.0)
    sim.bodies["sq"] = lambda i, a: (_ for _ in ()).throw(Fail("Bad"))
    state = sim.run()
    assert state.phase == WF.PHASE_FAILED
    assert state.error is not None
    assert state.error.code == "MinSuccessesNotMet"


def test_dynamic_node_compiles_and_runs_its_graph() -> None:
    double = task("double")
    fan = task("fan")

    def fan_body(inputs: literals_pb2.LiteralMap, attempt: int) -> dynamic_job_pb2.DynamicJobSpec:  # type: ignore[return]
        return dynamic_job_pb2.DynamicJobSpec(
            nodes=[
                task_node("d0", double, x=promise("start-node", "x")),
                task_node("d1", double, x=promise("d0")),
            ],
            outputs=bind(o0=promise("d1")),
            tasks=[double],
        )

    node = task_node("dyn", fan, x=promise("start-node", "x"))
    wf = workflow("wf", [node], bind(o=promise("dyn")), out_types=OUT)
    sim = Sim(compile_(wf, [fan]), ints(x=5), {"fan": fan_body, "double": times(2)})  # type: ignore[dict-item]
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert _value(sim) == 20
    assert [x.node_path for x in sim.launches] == ["dyn", "dyn.0.d0", "dyn.0.d1"]
    assert any(
        isinstance(x, c.WriteBlob) and x.uri.endswith("dyn/0/dynamic_closure.pb") for x in sim.log
    )
    done = [
        e for e in sim.events(event_pb2.NodeExecutionEvent)
        if e.id.node_id == "dyn" and e.phase == NODE.PHASE_SUCCEEDED  # type: ignore[attr-defined]
    ]  # fmt: skip
    assert done[0].is_dynamic  # type: ignore[attr-defined]
    assert done[0].dynamic_workflow.compiled_workflow_uri.endswith("dynamic_closure.pb")  # type: ignore[attr-defined]
    inner = [
        e for e in sim.events(event_pb2.NodeExecutionEvent)
        if e.id.node_id == "dyn.0.d0"  # type: ignore[attr-defined]
    ]  # fmt: skip
    assert {e.parent_node_metadata.node_id for e in inner} == {"dyn"}  # type: ignore[attr-defined]


def test_launch_plan_node_creates_a_deterministic_child() -> None:
    lp_id = ident("child-lp", identifier_pb2.RESOURCE_TYPE_LAUNCH_PLAN)
    node = workflow_pb2.Node(
        id="lp",
        inputs=bind(x=promise("start-node", "x")),
        workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=lp_id),
    )
    wf = workflow("wf", [node], bind(o=promise("lp")), out_types=OUT)
    closure = compile_(wf, [], launch_plans={id_key(lp_id): iface({"x": INT}, {"o0": INT})})
    sim = Sim(closure, ints(x=1), {})
    cmds = sim.round()
    creates = [x for x in cmds if isinstance(x, c.CreateChildExecution)]
    assert len(creates) == 1
    assert len(creates[0].name) == 20
    # Not yet seen by the shell: re-issued (ALREADY_EXISTS is success), still one name.
    again = [x for x in sim.round() if isinstance(x, c.CreateChildExecution)]
    assert again == creates
    started = [
        e for e in sim.events(event_pb2.NodeExecutionEvent)
        if e.phase == NODE.PHASE_RUNNING  # type: ignore[attr-defined]
    ]  # fmt: skip
    assert started[0].workflow_node_metadata.execution_id.name == creates[0].name  # type: ignore[attr-defined]
    sim.view.children[creates[0].name] = ChildStatus(WF.PHASE_RUNNING)
    sim.round()
    sim.view.blobs["mem://child/out.pb"] = ints(o0=9)
    sim.view.children[creates[0].name] = ChildStatus(WF.PHASE_SUCCEEDED, "mem://child/out.pb")
    assert sim.run().phase == WF.PHASE_SUCCEEDED
    assert _value(sim) == 9


def test_end_node_outputs_come_from_bindings_with_constants() -> None:
    t = task("t")
    wf = workflow(
        "wf", [task_node("a", t, x=promise("start-node", "x"))],
        bind(o=promise("a")), out_types=OUT,
    )  # fmt: skip
    sim = Sim(compile_(wf, [t]), ints(x=2), {"t": times(21)})
    sim.run()
    assert _value(sim) == 42
    assert sim.state.outputs_uri == "mem://e1/end-node/outputs.pb"
