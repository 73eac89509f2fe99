"""One test per compiler error kind: code, field path, node id, source location and message."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from google.protobuf import duration_pb2, struct_pb2

from skyloom_core import build as t
from skyloom_core import build_graph as g
from skyloom_core.compiler import CompilationFailed, CompileError, compile_workflow
from skyloom_core.refs import id_key
from skyloom_idl.core import (
    condition_pb2,
    identifier_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2,
)

LOAD = g.task_template("load", {}, {"o0": t.STR})
CLEAN = g.task_template("clean", {"scale": t.INT}, {"o0": t.INT})
ADD = g.task_template("add", {"a": t.INT, "b": t.INT}, {"o0": t.INT})
NUMS = g.task_template("nums", {}, {"o0": t.list_type(t.INT)})
TASKS: dict[str, tasks_pb2.TaskTemplate] = {id_key(x.id): x for x in (LOAD, CLEAN, ADD, NUMS)}


def errors_of(
    wf: workflow_pb2.WorkflowTemplate,
    tasks: Mapping[str, tasks_pb2.TaskTemplate] = TASKS,
    **kw: Mapping[str, workflow_pb2.WorkflowTemplate],
) -> list[CompileError]:
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(wf, tasks=tasks, **kw)  # type: ignore[arg-type]
    return list(info.value.errors)


def one(errors: list[CompileError], code: str) -> CompileError:
    found = [e for e in errors if e.code == code]
    assert len(found) == 1, errors
    return found[0]


def wf_of(*nodes: workflow_pb2.Node, **kw: object) -> workflow_pb2.WorkflowTemplate:
    return g.workflow_template("wf", list(nodes), source="wf.py:1", **kw)  # type: ignore[arg-type]


def test_mismatching_types_names_input_task_and_upstream() -> None:
    wf = wf_of(
        g.task_node("n0", LOAD, source="wf.py:11"),
        g.task_node("n1", CLEAN, {"scale": g.promise("n0", "o0")}, source="wf.py:12"),
    )
    err = one(errors_of(wf), "MismatchingTypes")
    assert err.message == "input 'scale' of clean expects int, got str from load.o0"
    assert err.field_path == "nodes[1].inputs[0].binding.promise"
    assert err.node_id == "n1"
    assert err.source_location == "wf.py:12"


def test_mismatching_constant_and_list_element() -> None:
    xs = literals_pb2.BindingData(
        collection=literals_pb2.BindingDataCollection(
            bindings=[g.binding_data(t.int_literal(1)), g.binding_data(t.str_literal("x"))]
        )
    )
    sums = g.task_template("sums", {"xs": t.list_type(t.INT)}, {})
    wf = wf_of(
        g.task_node("n0", CLEAN, {"scale": t.str_literal("big")}),
        g.task_node("n1", sums, {"xs": xs}),
    )
    errors = errors_of(wf, {**TASKS, id_key(sums.id): sums})
    assert [(e.field_path, e.message) for e in errors] == [
        (
            "nodes[0].inputs[0].binding.scalar",
            "input 'scale' of clean expects int, got str constant",
        ),
        (
            "nodes[1].inputs[0].binding.collection.bindings[1].scalar",
            "input 'xs' of sums at [1] expects int, got str constant",
        ),
    ]


def test_parameter_not_bound() -> None:
    wf = wf_of(g.task_node("n0", ADD, {"a": t.int_literal(1)}, source="wf.py:3"))
    err = one(errors_of(wf), "ParameterNotBound")
    assert (err.field_path, err.node_id, err.source_location) == (
        "nodes[0].inputs",
        "n0",
        "wf.py:3",
    )
    assert err.message == "input 'b' (int) of add is not bound"


def test_parameter_bound_more_than_once() -> None:
    node = g.task_node("n0", CLEAN, {"scale": t.int_literal(1)})
    node.inputs.extend(g.bindings({"scale": t.int_literal(2)}))
    err = one(errors_of(wf_of(node)), "ParameterBoundMoreThanOnce")
    assert err.field_path == "nodes[0].inputs[1].var"
    assert (
        err.message
        == "input 'scale' of clean is bound more than once (first at nodes[0].inputs[0])"
    )


def test_unknown_input() -> None:
    wf = wf_of(g.task_node("n0", CLEAN, {"scale": t.int_literal(1), "scael": t.int_literal(1)}))
    err = one(errors_of(wf), "UnknownInput")
    assert err.field_path == "nodes[0].inputs[1].var"
    assert err.message == "clean has no input 'scael' (inputs: scale)"


def test_unknown_node_in_promise_and_upstream_ids() -> None:
    wf = wf_of(g.task_node("n0", CLEAN, {"scale": g.promise("ghost", "o0")}, after=("phantom",)))
    errors = [e for e in errors_of(wf) if e.code == "UnknownNode"]
    assert [e.field_path for e in errors] == [
        "nodes[0].inputs[0].binding.promise.node_id",
        "nodes[0].upstream_node_ids[0]",
    ]
    assert errors[0].message == "clean uses an output of node 'ghost', which does not exist"
    assert errors[1].message == "clean runs after node 'phantom', which does not exist"


def test_unknown_output() -> None:
    wf = wf_of(g.task_node("n0", NUMS), g.task_node("n1", CLEAN, {"scale": g.promise("n0", "o1")}))
    err = one(errors_of(wf), "UnknownOutput")
    assert err.field_path == "nodes[1].inputs[0].binding.promise.var"
    assert err.message == "node 'nums' has no output 'o1' (available: o0), used by clean"


def test_unknown_workflow_input() -> None:
    wf = wf_of(g.task_node("n0", CLEAN, {"scale": g.promise("start-node", "x")}))
    err = one(errors_of(wf), "UnknownOutput")
    assert err.message == "the workflow has no input 'x' (available: none), used by clean"


def test_task_reference_not_found() -> None:
    missing = g.task_template("missing", {}, {})
    wf = wf_of(g.task_node("n0", missing, source="wf.py:9"))
    err = one(errors_of(wf), "TaskReferenceNotFound")
    assert err.field_path == "nodes[0].task_node.reference_id"
    assert err.message == "missing refers to task proj/dev/missing@v1, which was not found"
    assert err.source_location == "wf.py:9"


def test_workflow_and_launch_plan_reference_not_found() -> None:
    ref = g.entity_id("sub", kind=identifier_pb2.RESOURCE_TYPE_WORKFLOW)
    sub = workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=ref))
    lp = workflow_pb2.Node(id="n1", workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=ref))
    errors = errors_of(wf_of(sub, lp))
    assert (
        one(errors, "WorkflowReferenceNotFound").field_path
        == "nodes[0].workflow_node.sub_workflow_ref"
    )
    assert (
        one(errors, "LaunchPlanReferenceNotFound").field_path
        == "nodes[1].workflow_node.launchplan_ref"
    )


def test_ambiguous_reference_when_project_left_empty() -> None:
    other = tasks_pb2.TaskTemplate()
    other.CopyFrom(LOAD)
    other.id.project = "other"
    ref = tasks_pb2.TaskTemplate()
    ref.CopyFrom(LOAD)
    ref.id.project = ref.id.domain = ""
    err = one(
        errors_of(wf_of(g.task_node("n0", ref)), {**TASKS, id_key(other.id): other}),
        "AmbiguousReference",
    )
    assert "other/dev/load@v1, proj/dev/load@v1" in err.message


def test_duplicate_and_reserved_and_invalid_node_ids() -> None:
    wf = wf_of(
        g.task_node("n0", LOAD),
        g.task_node("n0", LOAD, source="wf.py:5"),
        g.task_node("end-node", LOAD),
        g.task_node("bad/id", LOAD),
    )
    errors = errors_of(wf)
    dup = one(errors, "DuplicateNodeId")
    assert (dup.field_path, dup.source_location) == ("nodes[1].id", "wf.py:5")
    assert dup.message == "node id 'n0' is used more than once (first at nodes[0])"
    assert one(errors, "ReservedNodeId").field_path == "nodes[2].id"
    assert one(errors, "InvalidNodeId").message == "node id contains '/'"


def test_cycle_reports_path_at_the_closing_reference() -> None:
    wf = wf_of(
        g.task_node(
            "a", ADD, {"a": g.promise("c", "o0"), "b": t.int_literal(1)}, source="wf.py:20"
        ),
        g.task_node("b", CLEAN, {"scale": g.promise("a", "o0")}),
        g.task_node("c", CLEAN, {"scale": g.promise("b", "o0")}),
        g.task_node("d", CLEAN, {"scale": g.promise("c", "o0")}),
    )
    errors = errors_of(wf)
    cycle = one(errors, "CycleDetected")
    assert cycle.message == "cycle detected: a -> b -> c -> a"
    assert (cycle.node_id, cycle.field_path, cycle.source_location) == (
        "a",
        "nodes[0].inputs[0].binding.promise",
        "wf.py:20",
    )
    unreachable = one(errors, "UnreachableNodes")
    assert (unreachable.node_id, unreachable.field_path) == ("d", "nodes[3]")


def test_self_loop_through_upstream_ids() -> None:
    wf = wf_of(g.task_node("x", LOAD), g.task_node("n1", LOAD, after=("x", "n1")))
    err = one(errors_of(wf), "CycleDetected")
    assert (err.field_path, err.message) == (
        "nodes[1].upstream_node_ids[1]",
        "cycle detected: n1 -> n1",
    )


def _branch(
    case_then: workflow_pb2.Node | None, else_node: workflow_pb2.Node | None
) -> workflow_pb2.Node:
    cond = condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=condition_pb2.ComparisonExpression.OPERATOR_GT,
            left_value=condition_pb2.Operand(var="x"),
            right_value=condition_pb2.Operand(primitive=literals_pb2.Primitive(integer=3)),
        )
    )
    ie = workflow_pb2.IfElseBlock(case=workflow_pb2.IfBlock(condition=cond))
    if case_then is not None:
        ie.case.then_node.CopyFrom(case_then)
    if else_node is not None:
        ie.else_node.CopyFrom(else_node)
    return workflow_pb2.Node(
        id="br",
        metadata=workflow_pb2.NodeMetadata(source_location="wf.py:30"),
        inputs=g.bindings({"x": g.promise("start-node", "x")}),
        branch_node=workflow_pb2.BranchNode(if_else=ie),
    )


def test_branch_without_condition_or_default() -> None:
    node = _branch(g.task_node("b0", LOAD), None)
    node.branch_node.if_else.case.ClearField("condition")
    errors = errors_of(wf_of(node, inputs={"x": t.INT}))
    no_cond = one(errors, "BranchNodeHasNoCondition")
    assert (no_cond.field_path, no_cond.node_id) == (
        "nodes[0].branch_node.if_else.case.condition",
        "br",
    )
    no_default = one(errors, "BranchNodeHasNoDefault")
    assert no_default.field_path == "nodes[0].branch_node.if_else"
    assert no_default.source_location == "wf.py:30"


def test_branch_cases_must_produce_the_same_outputs() -> None:
    node = _branch(g.task_node("b0", LOAD), g.task_node("b1", NUMS))
    err = one(errors_of(wf_of(node, inputs={"x": t.INT})), "MismatchingBranchOutputs")
    assert err.field_path == "nodes[0].branch_node.if_else.else_node"
    assert (
        err.message == "output 'o0' of branch br is str in its first case but list[int] from nums"
    )


def test_branch_condition_on_unknown_input() -> None:
    node = _branch(g.task_node("b0", LOAD), g.task_node("b1", LOAD))
    node.branch_node.if_else.case.condition.comparison.left_value.var = "y"
    err = one(errors_of(wf_of(node, inputs={"x": t.INT})), "UnknownInput")
    assert err.field_path == "nodes[0].branch_node.if_else.case.condition.comparison.left_value.var"


def test_branch_inner_node_error_has_inner_path_and_id() -> None:
    inner = g.task_node("b0", CLEAN, {"scale": g.promise("br", "s")}, source="wf.py:31")
    node = _branch(inner, g.task_node("b1", CLEAN, {"scale": t.int_literal(1)}))
    node.inputs.extend(g.bindings({"s": g.promise("start-node", "s")}))
    err = one(errors_of(wf_of(node, inputs={"x": t.INT, "s": t.STR})), "MismatchingTypes")
    assert err.node_id == "b0"
    assert err.source_location == "wf.py:31"
    assert err.field_path == "nodes[0].branch_node.if_else.case.then_node.inputs[0].binding.promise"
    assert err.message == "input 'scale' of clean expects int, got str from br.s"


def test_invalid_array_node() -> None:
    sub = g.task_node("s", CLEAN)
    array = workflow_pb2.Node(
        id="m",
        inputs=g.bindings({"scale": t.int_literal(1)}),
        array_node=workflow_pb2.ArrayNode(node=sub, min_success_ratio=1.5),
    )
    errors = [e for e in errors_of(wf_of(array)) if e.code == "InvalidArrayNode"]
    assert [e.field_path for e in errors] == [
        "nodes[0].array_node.min_success_ratio",
        "nodes[0].inputs",
    ]
    assert (
        errors[1].message
        == "array node m has nothing to map over: bind at least one input to a list"
    )


def test_array_of_branch_is_invalid() -> None:
    array = workflow_pb2.Node(
        id="m", array_node=workflow_pb2.ArrayNode(node=_branch(g.task_node("x", LOAD), None))
    )
    err = one(errors_of(wf_of(array)), "InvalidArrayNode")
    assert err.message == "m maps over a branch node; only task and workflow nodes can be mapped"


def test_invalid_attribute_path_on_schema_struct() -> None:
    schema = struct_pb2.Struct()
    schema.update({"title": "Cfg", "type": "object", "properties": {"lr": {"type": "number"}}})
    cfg_type = types_pb2.LiteralType(
        simple=types_pb2.SimpleType.SIMPLE_TYPE_STRUCT, metadata=schema
    )
    make = g.task_template("make", {}, {"cfg": cfg_type})
    use = g.task_template("use", {"lr": t.FLOAT, "n": t.INT}, {})
    wf = wf_of(
        g.task_node("n0", make),
        g.task_node(
            "n1", use, {"lr": g.promise("n0", "cfg", "lr"), "n": g.promise("n0", "cfg", "epochs")}
        ),
    )
    err = one(errors_of(wf, {id_key(make.id): make, id_key(use.id): use}), "InvalidAttributePath")
    assert err.field_path == "nodes[1].inputs[1].binding.promise.attr_path[0]"
    assert err.message == "use: cannot take unknown attribute 'epochs' of Cfg (make.cfg.epochs)"


def test_invalid_gate_node() -> None:
    gate = workflow_pb2.Node(
        id="g", gate_node=workflow_pb2.GateNode(signal=workflow_pb2.SignalCondition(signal_id="go"))
    )
    sleep = workflow_pb2.Node(
        id="s", gate_node=workflow_pb2.GateNode(sleep=workflow_pb2.SleepCondition())
    )
    errors = errors_of(wf_of(gate, sleep))
    assert [e.field_path for e in errors if e.code == "InvalidGateNode"] == [
        "nodes[0].gate_node.signal.type",
        "nodes[1].gate_node.sleep.duration",
    ]


def test_node_without_target() -> None:
    err = one(errors_of(wf_of(workflow_pb2.Node(id="n0"))), "NodeHasNoTarget")
    assert (err.field_path, err.node_id) == ("nodes[0]", "n0")


def test_no_nodes_and_unbound_workflow_output() -> None:
    errors = errors_of(wf_of(outputs={"y": t.INT}))
    assert one(errors, "NoNodesFound").field_path == "nodes"
    unbound = one(errors, "ParameterNotBound")
    assert (unbound.field_path, unbound.node_id) == ("outputs", "end-node")
    assert unbound.message == "output 'y' (int) of workflow wf is not bound"


def test_workflow_output_type_and_unknown_output() -> None:
    wf = wf_of(
        g.task_node("n0", LOAD),
        outputs={"y": t.INT},
        output_bindings={"y": g.promise("n0", "o0"), "z": g.promise("n0", "o0")},
    )
    errors = errors_of(wf)
    assert (
        one(errors, "MismatchingTypes").message
        == "output 'y' of workflow wf expects int, got str from load.o0"
    )
    assert one(errors, "UnknownOutput").field_path == "outputs[1].var"


def test_recursive_subworkflow() -> None:
    ref = g.entity_id("sub", kind=identifier_pb2.RESOURCE_TYPE_WORKFLOW)
    sub = workflow_pb2.WorkflowTemplate(
        id=ref,
        nodes=[
            workflow_pb2.Node(
                id="again", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=ref)
            )
        ],
    )
    wf = wf_of(
        workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=ref))
    )
    err = one(errors_of(wf, subworkflows={id_key(ref): sub}), "CycleDetected")
    assert (
        err.message
        == "workflows include each other recursively: proj/dev/sub@v1 -> proj/dev/sub@v1"
    )
    assert err.field_path == 'sub_workflows["proj/dev/sub@v1"].nodes[0]'


def test_subworkflow_errors_are_prefixed() -> None:
    ref = g.entity_id("sub", kind=identifier_pb2.RESOURCE_TYPE_WORKFLOW)
    sub = g.workflow_template("sub", [g.task_node("s0", CLEAN, {"scale": t.str_literal("x")})])
    sub.id.CopyFrom(ref)
    wf = wf_of(
        workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=ref))
    )
    err = one(errors_of(wf, subworkflows={id_key(ref): sub}), "MismatchingTypes")
    assert err.field_path == 'sub_workflows["proj/dev/sub@v1"].nodes[0].inputs[0].binding.scalar'
    assert err.node_id == "s0"


def test_all_errors_are_reported_at_once() -> None:
    wf = wf_of(
        g.task_node("n0", LOAD),
        g.task_node("n1", CLEAN, {"scale": g.promise("n0", "o0")}),
        g.task_node("n1", ADD, {"a": t.int_literal(1)}),
        g.task_node("n3", g.task_template("nope"), after=("n9",)),
        g.task_node("n4", CLEAN, {"scale": g.promise("n4", "o0")}),
        outputs={"y": t.INT},
    )
    codes = sorted(e.code for e in errors_of(wf))
    assert codes == sorted(
        [
            "MismatchingTypes",
            "DuplicateNodeId",
            "ParameterNotBound",
            "TaskReferenceNotFound",
            "UnknownNode",
            "CycleDetected",
            "ParameterNotBound",
        ]
    )


def test_sleep_gate_with_duration_compiles() -> None:
    gate = workflow_pb2.Node(
        id="s",
        inputs=g.bindings({"v": g.promise("n0", "o0")}),
        gate_node=workflow_pb2.GateNode(
            sleep=workflow_pb2.SleepCondition(duration=duration_pb2.Duration(seconds=5))
        ),
    )
    wf = wf_of(
        g.task_node("n0", NUMS), gate, g.task_node("n1", CLEAN, {"scale": g.promise("s", "v")})
    )
    err = one(errors_of(wf), "MismatchingTypes")
    assert err.message == "input 'scale' of clean expects int, got list[int] from s.v"
