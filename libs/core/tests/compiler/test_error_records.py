"""Each error kind as a complete record: code, message, node id, field path, source location.

Every scenario holds exactly one fault, so the whole error list is compared, not searched.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from google.protobuf import struct_pb2

from skyloom_core import build as t
from skyloom_core import build_graph as g
from skyloom_core.compiler import CompilationFailed, CompileError, compile_workflow
from skyloom_core.refs import id_key
from skyloom_idl.core import (
    condition_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    types_pb2,
    workflow_pb2,
)

LOAD = g.task_template("load", {}, {"o0": t.STR})
CLEAN = g.task_template("clean", {"scale": t.INT}, {"o0": t.INT})
NUMS = g.task_template("nums", {}, {"o0": t.list_type(t.INT)})
_schema = struct_pb2.Struct()
_schema.update({"title": "Cfg", "type": "object", "properties": {"lr": {"type": "number"}}})
CFG = g.task_template(
    "cfg",
    {},
    {"o0": types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_STRUCT, metadata=_schema)},
)
TASKS = {id_key(x.id): x for x in (LOAD, CLEAN, NUMS, CFG)}
SUB = g.entity_id("sub", kind=identifier_pb2.RESOURCE_TYPE_WORKFLOW)


def node(
    node_id: str, task: object = LOAD, inputs: dict[str, g.Bindable] | None = None, **kw: object
) -> workflow_pb2.Node:
    return g.task_node(node_id, task, inputs, source=f"wf.py:{node_id}", **kw)  # type: ignore[arg-type]


def wf(*nodes: workflow_pb2.Node, **kw: object) -> workflow_pb2.WorkflowTemplate:
    return g.workflow_template("wf", list(nodes), source="wf.py:0", **kw)  # type: ignore[arg-type]


def branch(else_node: workflow_pb2.Node | None, *, condition: bool = True) -> workflow_pb2.Node:
    cond = condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=condition_pb2.ComparisonExpression.OPERATOR_EQ,
            left_value=condition_pb2.Operand(var="x"),
            right_value=condition_pb2.Operand(primitive=literals_pb2.Primitive(integer=1)),
        )
    )
    ie = workflow_pb2.IfElseBlock(case=workflow_pb2.IfBlock(then_node=node("b0")))
    if condition:
        ie.case.condition.CopyFrom(cond)
    if else_node is not None:
        ie.else_node.CopyFrom(else_node)
    return workflow_pb2.Node(
        id="br",
        metadata=workflow_pb2.NodeMetadata(source_location="wf.py:br"),
        inputs=g.bindings({"x": t.int_literal(1)}),
        branch_node=workflow_pb2.BranchNode(if_else=ie),
    )


def err(code: str, message: str, node_id: str, path: str, source: str) -> CompileError:
    return CompileError(code, message, node_id, path, source)


SCENARIOS: dict[str, tuple[Callable[[], workflow_pb2.WorkflowTemplate], CompileError]] = {
    "MismatchingTypes": (
        lambda: wf(node("n0"), node("n1", CLEAN, {"scale": g.promise("n0", "o0")})),
        err(
            "MismatchingTypes",
            "input 'scale' of clean expects int, got str from load.o0",
            "n1",
            "nodes[1].inputs[0].binding.promise",
            "wf.py:n1",
        ),
    ),
    "ParameterNotBound": (
        lambda: wf(node("n0", CLEAN)),
        err(
            "ParameterNotBound",
            "input 'scale' (int) of clean is not bound",
            "n0",
            "nodes[0].inputs",
            "wf.py:n0",
        ),
    ),
    "ParameterBoundMoreThanOnce": (
        lambda: wf(
            workflow_pb2.Node(
                id="n0",
                metadata=workflow_pb2.NodeMetadata(name="clean", source_location="wf.py:n0"),
                inputs=g.bindings({"scale": t.int_literal(1)})
                + g.bindings({"scale": t.int_literal(2)}),
                task_node=workflow_pb2.TaskNode(reference_id=CLEAN.id),
            )
        ),
        err(
            "ParameterBoundMoreThanOnce",
            "input 'scale' of clean is bound more than once (first at nodes[0].inputs[0])",
            "n0",
            "nodes[0].inputs[1].var",
            "wf.py:n0",
        ),
    ),
    "UnknownInput": (
        lambda: wf(node("n0", LOAD, {"x": t.int_literal(1)})),
        err(
            "UnknownInput",
            "load has no input 'x' (inputs: none)",
            "n0",
            "nodes[0].inputs[0].var",
            "wf.py:n0",
        ),
    ),
    "UnknownNode": (
        lambda: wf(node("n0", LOAD, after=("ghost",))),
        err(
            "UnknownNode",
            "load runs after node 'ghost', which does not exist",
            "n0",
            "nodes[0].upstream_node_ids[0]",
            "wf.py:n0",
        ),
    ),
    "UnknownOutput": (
        lambda: wf(node("n0"), node("n1", CLEAN, {"scale": g.promise("n0", "o7")})),
        err(
            "UnknownOutput",
            "node 'load' has no output 'o7' (available: o0), used by clean",
            "n1",
            "nodes[1].inputs[0].binding.promise.var",
            "wf.py:n1",
        ),
    ),
    "TaskReferenceNotFound": (
        lambda: wf(node("n0", g.task_template("gone"))),
        err(
            "TaskReferenceNotFound",
            "gone refers to task proj/dev/gone@v1, which was not found",
            "n0",
            "nodes[0].task_node.reference_id",
            "wf.py:n0",
        ),
    ),
    "WorkflowReferenceNotFound": (
        lambda: wf(
            workflow_pb2.Node(
                id="n0", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=SUB)
            )
        ),
        err(
            "WorkflowReferenceNotFound",
            "n0 refers to subworkflow proj/dev/sub@v1, which was not found",
            "n0",
            "nodes[0].workflow_node.sub_workflow_ref",
            "wf.py:0",
        ),
    ),
    "DuplicateNodeId": (
        lambda: wf(node("n0"), node("n0")),
        err(
            "DuplicateNodeId",
            "node id 'n0' is used more than once (first at nodes[0])",
            "n0",
            "nodes[1].id",
            "wf.py:n0",
        ),
    ),
    "ReservedNodeId": (
        lambda: wf(node("start-node")),
        err(
            "ReservedNodeId",
            "node id 'start-node' is reserved",
            "start-node",
            "nodes[0].id",
            "wf.py:start-node",
        ),
    ),
    "CycleDetected": (
        lambda: wf(
            node("a", CLEAN, {"scale": g.promise("b", "o0")}),
            node("b", CLEAN, {"scale": g.promise("a", "o0")}),
        ),
        err(
            "CycleDetected",
            "cycle detected: a -> b -> a",
            "a",
            "nodes[0].inputs[0].binding.promise",
            "wf.py:a",
        ),
    ),
    "BranchNodeHasNoCondition": (
        lambda: wf(branch(node("b1"), condition=False)),
        err(
            "BranchNodeHasNoCondition",
            "a case of branch br has no condition",
            "br",
            "nodes[0].branch_node.if_else.case.condition",
            "wf.py:br",
        ),
    ),
    "BranchNodeHasNoDefault": (
        lambda: wf(branch(None)),
        err(
            "BranchNodeHasNoDefault",
            "branch br has no else: add an else node or an else error",
            "br",
            "nodes[0].branch_node.if_else",
            "wf.py:br",
        ),
    ),
    "MismatchingBranchOutputs": (
        lambda: wf(branch(node("b1", NUMS))),
        err(
            "MismatchingBranchOutputs",
            "output 'o0' of branch br is str in its first case but list[int] from nums",
            "br",
            "nodes[0].branch_node.if_else.else_node",
            "wf.py:br",
        ),
    ),
    "InvalidArrayNode": (
        lambda: wf(
            workflow_pb2.Node(
                id="m",
                metadata=workflow_pb2.NodeMetadata(source_location="wf.py:m"),
                array_node=workflow_pb2.ArrayNode(node=node("s", CLEAN)),
                inputs=g.bindings({"scale": t.int_literal(3)}),
            )
        ),
        err(
            "InvalidArrayNode",
            "array node m has nothing to map over: bind at least one input to a list",
            "m",
            "nodes[0].inputs",
            "wf.py:m",
        ),
    ),
    "InvalidAttributePath": (
        lambda: wf(node("n0", CFG), node("n1", CLEAN, {"scale": g.promise("n0", "o0", "epochs")})),
        err(
            "InvalidAttributePath",
            "clean: cannot take unknown attribute 'epochs' of Cfg (cfg.o0.epochs)",
            "n1",
            "nodes[1].inputs[0].binding.promise.attr_path[0]",
            "wf.py:n1",
        ),
    ),
    "NodeHasNoTarget": (
        lambda: wf(
            workflow_pb2.Node(
                id="n0", metadata=workflow_pb2.NodeMetadata(source_location="wf.py:7")
            )
        ),
        err(
            "NodeHasNoTarget",
            "node 'n0' has nothing to run (no task, workflow, branch, gate or array)",
            "n0",
            "nodes[0]",
            "wf.py:7",
        ),
    ),
    "InvalidGateNode": (
        lambda: wf(
            workflow_pb2.Node(
                id="g0", gate_node=workflow_pb2.GateNode(approve=workflow_pb2.ApproveCondition())
            )
        ),
        err(
            "InvalidGateNode",
            "g0 waits for an approval with no signal id",
            "g0",
            "nodes[0].gate_node.approve.signal_id",
            "wf.py:0",
        ),
    ),
    "UnknownOutputOfWorkflow": (
        lambda: wf(node("n0"), output_bindings={"nope": g.promise("n0", "o0")}),
        err(
            "UnknownOutput",
            "workflow wf has no output 'nope' (outputs: none)",
            "end-node",
            "outputs[0].var",
            "wf.py:0",
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_error_record(name: str) -> None:
    build, expected = SCENARIOS[name]
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(build(), tasks=TASKS, subworkflows={}, launch_plans={})
    assert list(info.value.errors) == [expected]


def test_unreachable_record() -> None:
    template = wf(
        node("a", CLEAN, {"scale": g.promise("b", "o0")}),
        node("b", CLEAN, {"scale": g.promise("a", "o0")}),
        node("c", CLEAN, {"scale": g.promise("b", "o0")}),
    )
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(template, tasks=TASKS)
    assert info.value.errors[-1] == err(
        "UnreachableNodes",
        "node 'c' can never run: it depends on a cycle",
        "c",
        "nodes[2]",
        "wf.py:c",
    )


def test_launch_plan_reference_record() -> None:
    lp = g.entity_id("lp", kind=identifier_pb2.RESOURCE_TYPE_LAUNCH_PLAN)
    template = wf(
        workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=lp))
    )
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(
            template,
            tasks=TASKS,
            launch_plans={"proj/dev/other@v1": interface_pb2.TypedInterface()},
        )
    assert list(info.value.errors) == [
        err(
            "LaunchPlanReferenceNotFound",
            "n0 refers to launch plan proj/dev/lp@v1, which was not found",
            "n0",
            "nodes[0].workflow_node.launchplan_ref",
            "wf.py:0",
        )
    ]
