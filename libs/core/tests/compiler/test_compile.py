"""What a successful compilation produces: edges, order, closure, resolved references."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2

from skyloom_core import build as t
from skyloom_core import build_graph as g
from skyloom_core.compiler import (
    CompilationFailed,
    LaunchPlanInterface,
    compile_dynamic,
    compile_workflow,
)
from skyloom_core.dag import blocked_nodes, ready_nodes, skipped_nodes
from skyloom_core.refs import id_key
from skyloom_idl.core import (
    compiler_pb2,
    condition_pb2,
    dynamic_job_pb2,
    execution_pb2,
    identifier_pb2,
    literals_pb2,
    types_pb2,
    workflow_pb2,
)

LOAD = g.task_template("load", {}, {"o0": t.STR})
PARSE = g.task_template("parse", {"s": t.STR}, {"o0": t.INT})
ADD = g.task_template("add", {"a": t.INT, "b": t.INT}, {"o0": t.INT})
SQUARE = g.task_template("square", {"x": t.INT, "k": t.INT}, {"o0": t.FLOAT})
TASKS = {id_key(x.id): x for x in (LOAD, PARSE, ADD, SQUARE)}
P = execution_pb2.NodeExecution.Phase


def ids(conns: compiler_pb2.ConnectionSet, node: str, side: str = "upstream") -> list[str]:
    return list(getattr(conns, side)[node].ids)


def diamond() -> workflow_pb2.WorkflowTemplate:
    return g.workflow_template(
        "wf",
        [
            g.task_node("n0", LOAD),
            g.task_node("n1", PARSE, {"s": g.promise("n0", "o0")}),
            g.task_node("n2", PARSE, {"s": g.promise("start-node", "raw")}),
            g.task_node("n3", ADD, {"a": g.promise("n1", "o0"), "b": g.promise("n2", "o0")}),
            g.task_node("n4", LOAD, after=("n1",)),
        ],
        inputs={"raw": t.STR},
        outputs={"total": t.INT},
        output_bindings={"total": g.promise("n3", "o0")},
    )


def test_diamond_edges_order_and_closure() -> None:
    closure = compile_workflow(diamond(), tasks=TASKS)
    wf = closure.primary
    assert list(wf.topological_order) == ["start-node", "n0", "n1", "n2", "n3", "n4", "end-node"]
    c = wf.connections
    assert ids(c, "n0") == ["start-node"]
    assert ids(c, "n2") == ["start-node"]
    assert ids(c, "n3") == ["n1", "n2"]
    assert ids(c, "n4") == ["n1"]
    assert ids(c, "end-node") == ["n3", "n4"]
    assert ids(c, "n1", "downstream") == ["n3", "n4"]
    assert ids(c, "start-node", "downstream") == ["n0", "n2"]
    assert [x.template.id.name for x in closure.tasks] == ["add", "load", "parse"]


def test_references_with_empty_project_resolve_and_are_rewritten() -> None:
    wf = diamond()
    for node in wf.nodes:
        node.task_node.reference_id.project = ""
        node.task_node.reference_id.domain = ""
    closure = compile_workflow(wf, tasks=TASKS)
    assert closure.primary.template.nodes[0].task_node.reference_id.project == "proj"
    assert wf.nodes[0].task_node.reference_id.project == ""  # the input is not mutated


def _if(var: str, value: int, then: workflow_pb2.Node) -> workflow_pb2.IfBlock:
    cond = condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=condition_pb2.ComparisonExpression.OPERATOR_LT,
            left_value=condition_pb2.Operand(var=var),
            right_value=condition_pb2.Operand(primitive=literals_pb2.Primitive(float_value=value)),
        )
    )
    return workflow_pb2.IfBlock(condition=cond, then_node=then)


def test_branch_outputs_feed_downstream_and_inner_dependencies_lift() -> None:
    branch = workflow_pb2.Node(
        id="br",
        inputs=g.bindings({"v": g.promise("n1", "o0")}),
        branch_node=workflow_pb2.BranchNode(
            if_else=workflow_pb2.IfElseBlock(
                case=_if(
                    "v",
                    3,
                    g.task_node("b0", ADD, {"a": g.promise("br", "v"), "b": g.promise("n2", "o0")}),
                ),
                else_node=g.task_node("b1", PARSE, {"s": g.promise("n0", "o0")}),
            )
        ),
    )
    wf = g.workflow_template(
        "wf",
        [
            g.task_node("n0", LOAD),
            g.task_node("n1", PARSE, {"s": g.promise("n0", "o0")}),
            g.task_node("n2", PARSE, {"s": g.promise("n0", "o0")}),
            branch,
            g.task_node("n4", ADD, {"a": g.promise("br", "o0"), "b": t.int_literal(1)}),
        ],
    )
    closure = compile_workflow(wf, tasks=TASKS)
    assert ids(closure.primary.connections, "br") == ["n0", "n1", "n2"]
    assert ids(closure.primary.connections, "n4") == ["br"]


def test_array_node_maps_lists_and_broadcasts_scalars() -> None:
    nums = g.task_template("nums", {}, {"o0": t.list_type(t.INT)})
    total = g.task_template("total", {"xs": t.list_type(t.FLOAT)}, {})
    array = workflow_pb2.Node(
        id="m",
        inputs=g.bindings({"x": g.promise("n0", "o0"), "k": t.int_literal(2)}),
        array_node=workflow_pb2.ArrayNode(node=g.task_node("m-sub", SQUARE), min_successes=1),
    )
    wf = g.workflow_template(
        "wf",
        [g.task_node("n0", nums), array, g.task_node("n2", total, {"xs": g.promise("m", "o0")})],
    )
    tasks = {**TASKS, id_key(nums.id): nums, id_key(total.id): total}
    closure = compile_workflow(wf, tasks=tasks)
    assert [x.template.id.name for x in closure.tasks] == ["nums", "square", "total"]
    wrong = g.task_template("total", {"xs": t.list_type(t.STR)}, {})
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(wf, tasks={**tasks, id_key(wrong.id): wrong})
    e = info.value
    assert [x.message for x in e.errors] == [
        "input 'xs' of total expects list[str], got list[float] from m.o0"
    ]


def test_signal_gate_output_is_typed() -> None:
    gate = workflow_pb2.Node(
        id="g",
        gate_node=workflow_pb2.GateNode(
            signal=workflow_pb2.SignalCondition(
                signal_id="approve-scale", type=t.INT, output_variable_name="scale"
            )
        ),
    )
    wf = g.workflow_template(
        "wf", [gate, g.task_node("n1", ADD, {"a": g.promise("g", "scale"), "b": t.int_literal(1)})]
    )
    assert ids(compile_workflow(wf, tasks=TASKS).primary.connections, "n1") == ["g"]


def test_launch_plan_defaults_may_stay_unbound() -> None:
    ref = g.entity_id("lp", kind=identifier_pb2.RESOURCE_TYPE_LAUNCH_PLAN)
    node = workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=ref))
    wf = g.workflow_template("wf", [node])
    lp = LaunchPlanInterface(g.interface({"a": t.INT}, {"o0": t.INT}), defaults=frozenset({"a"}))
    compile_workflow(wf, tasks=TASKS, launch_plans={id_key(ref): lp})
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(wf, tasks=TASKS, launch_plans={id_key(ref): lp.interface})
    e = info.value
    assert [x.code for x in e.errors] == ["ParameterNotBound"]


def test_subworkflows_are_compiled_into_the_closure() -> None:
    sub = diamond()
    sub.id.CopyFrom(g.entity_id("inner", kind=identifier_pb2.RESOURCE_TYPE_WORKFLOW))
    node = workflow_pb2.Node(
        id="s",
        inputs=g.bindings({"raw": t.str_literal("7")}),
        workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=sub.id),
    )
    wf = g.workflow_template(
        "outer",
        [node, g.task_node("n1", ADD, {"a": g.promise("s", "total"), "b": t.int_literal(1)})],
    )
    closure = compile_workflow(wf, tasks=TASKS, subworkflows={id_key(sub.id): sub})
    assert [w.template.id.name for w in closure.sub_workflows] == ["inner"]
    assert [x.template.id.name for x in closure.tasks] == ["add", "load", "parse"]


def test_attribute_paths_follow_lists_maps_and_struct_schemas() -> None:
    schema = struct_pb2.Struct()
    schema.update(
        {
            "title": "Cfg",
            "type": "object",
            "properties": {
                "sizes": {"type": "array", "items": {"type": "integer"}},
                "name": {"type": "string"},
            },
        }
    )
    cfg = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_STRUCT, metadata=schema)
    make = g.task_template(
        "make", {}, {"cfg": cfg, "m": t.dict_type(t.list_type(t.INT)), "blob": t.STRUCT}
    )
    wf = g.workflow_template(
        "wf",
        [
            g.task_node("n0", make),
            g.task_node(
                "n1",
                ADD,
                {"a": g.promise("n0", "cfg", "sizes", 0), "b": g.promise("n0", "m", "k", 2)},
            ),
            g.task_node("n2", PARSE, {"s": g.promise("n0", "blob", "anything", "goes")}),
        ],
    )
    tasks = {**TASKS, id_key(make.id): make}
    compile_workflow(wf, tasks=tasks)
    wf.nodes[2].inputs[0].binding.promise.CopyFrom(g.promise("n0", "cfg", "sizes"))
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(wf, tasks=tasks)
    e = info.value
    assert [x.message for x in e.errors] == [
        "input 's' of parse expects str, got list[int] from make.cfg.sizes"
    ]


def test_optional_input_accepts_none_and_value() -> None:
    opt = g.task_template("opt", {"x": t.optional_type(t.INT)}, {})
    wf = g.workflow_template(
        "wf",
        [
            g.task_node("n0", opt, {"x": t.none_literal()}),
            g.task_node("n1", opt, {"x": t.int_literal(3)}),
            g.task_node("n2", PARSE, {"s": t.str_literal("1")}),
            g.task_node("n3", opt, {"x": g.promise("n2", "o0")}),
        ],
    )
    compile_workflow(wf, tasks={**TASKS, id_key(opt.id): opt})


def test_compile_dynamic_binds_parent_outputs() -> None:
    spec = dynamic_job_pb2.DynamicJobSpec(
        nodes=[
            g.task_node("dn0", PARSE, {"s": g.promise("start-node", "text")}),
            g.task_node("dn1", ADD, {"a": g.promise("dn0", "o0"), "b": t.int_literal(2)}),
        ],
        outputs=g.bindings({"o0": g.promise("dn1", "o0")}),
        tasks=[PARSE, ADD],
    )
    parent = g.task_template("dyn", {"text": t.STR}, {"o0": t.INT})
    closure = compile_dynamic(spec, parent_id=parent.id, parent_interface=parent.interface)
    assert list(closure.primary.topological_order) == ["start-node", "dn0", "dn1", "end-node"]
    spec.outputs[0].binding.promise.var = "nope"
    with pytest.raises(CompilationFailed) as info:
        compile_dynamic(spec, parent_id=parent.id, parent_interface=parent.interface)
    e = info.value
    assert [(x.code, x.field_path) for x in e.errors] == [
        ("UnknownOutput", "outputs[0].binding.promise.var")
    ]


def test_empty_dynamic_job_is_valid() -> None:
    parent = g.task_template("dyn", {}, {})
    closure = compile_dynamic(
        dynamic_job_pb2.DynamicJobSpec(), parent_id=parent.id, parent_interface=parent.interface
    )
    assert list(closure.primary.topological_order) == ["start-node", "end-node"]


def test_ready_skipped_and_blocked_nodes() -> None:
    wf = compile_workflow(diamond(), tasks=TASKS).primary
    assert ready_nodes(wf, {}) == ["n0", "n2"]
    assert ready_nodes(wf, {"n0": P.PHASE_SUCCEEDED, "n2": P.PHASE_RUNNING}) == ["n1"]
    done = {"n0": P.PHASE_SUCCEEDED, "n1": P.PHASE_RECOVERED, "n2": P.PHASE_SUCCEEDED}
    assert ready_nodes(wf, done) == ["n3", "n4"]
    assert blocked_nodes(wf, {"n0": P.PHASE_FAILED}) == ["n1"]
    assert skipped_nodes(wf, {"n0": P.PHASE_SUCCEEDED, "n1": P.PHASE_SKIPPED}) == ["n3", "n4"]
    all_done = dict.fromkeys(["n0", "n1", "n2", "n3", "n4"], P.PHASE_SUCCEEDED)
    assert ready_nodes(wf, all_done) == ["end-node"]


def test_subworkflow_found_by_wildcard_is_compiled_too() -> None:
    sub = diamond()
    sub.id.CopyFrom(g.entity_id("inner", kind=identifier_pb2.RESOURCE_TYPE_WORKFLOW))
    ref = identifier_pb2.Identifier(
        resource_type=identifier_pb2.RESOURCE_TYPE_WORKFLOW, name="inner"
    )
    node = workflow_pb2.Node(
        id="s",
        inputs=g.bindings({"raw": t.str_literal("7")}),
        workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=ref),
    )
    closure = compile_workflow(
        g.workflow_template("outer", [node]), tasks=TASKS, subworkflows={id_key(sub.id): sub}
    )
    assert [w.template.id.name for w in closure.sub_workflows] == ["inner"]
    assert closure.primary.template.nodes[0].workflow_node.sub_workflow_ref.version == "v1"
