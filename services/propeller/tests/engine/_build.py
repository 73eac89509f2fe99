"""Hand-built templates for engine tests: tasks, nodes, bindings, compiled with libs/core."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import duration_pb2

from skyloom_core import compile_workflow
from skyloom_core.refs import id_key
from skyloom_idl.core import (
    compiler_pb2,
    condition_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2,
)

INT = types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_INTEGER)
STR = types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_STRING)


def list_of(t: types_pb2.LiteralType) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(collection_type=t)


def ident(name: str, kind: int = identifier_pb2.RESOURCE_TYPE_TASK) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=kind,
        project="p",
        domain="d",
        name=name,
        version="v1",  # type: ignore[arg-type]
    )


def iface(
    inputs: dict[str, types_pb2.LiteralType], outputs: dict[str, types_pb2.LiteralType]
) -> interface_pb2.TypedInterface:
    return interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(
            variables={k: interface_pb2.Variable(type=v) for k, v in inputs.items()}
        ),
        outputs=interface_pb2.VariableMap(
            variables={k: interface_pb2.Variable(type=v) for k, v in outputs.items()}
        ),
    )


def task(
    name: str,
    inputs: dict[str, types_pb2.LiteralType] | None = None,
    outputs: dict[str, types_pb2.LiteralType] | None = None,
    *,
    retries: int = 0,
    timeout_s: int = 0,
    interruptible: bool = False,
    retry_all: bool = False,
    cache: bool = False,
    serialize: bool = False,
) -> tasks_pb2.TaskTemplate:
    meta = tasks_pb2.TaskMetadata(
        retries=literals_pb2.RetryStrategy(retries=retries),
        interruptible=interruptible,
        retry_all_errors=retry_all,
    )
    if timeout_s:
        meta.timeout.CopyFrom(duration_pb2.Duration(seconds=timeout_s))
    if cache:
        meta.cache.CopyFrom(tasks_pb2.CacheConfig(enabled=True, version="1", serialize=serialize))
    return tasks_pb2.TaskTemplate(
        id=ident(name),
        type="python",
        metadata=meta,
        interface=iface(inputs or {"x": INT}, outputs if outputs is not None else {"o0": INT}),
        container=tasks_pb2.Container(image="img", command=["skyloom-execute"]),
    )


def promise(node: str, var: str = "o0") -> literals_pb2.BindingData:
    return literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node, var=var))


def const(v: int) -> literals_pb2.BindingData:
    return literals_pb2.BindingData(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v))
    )


def bind(**kw: literals_pb2.BindingData) -> list[literals_pb2.Binding]:
    return [literals_pb2.Binding(var=k, binding=v) for k, v in kw.items()]


def task_node(
    node_id: str,
    t: tasks_pb2.TaskTemplate,
    *,
    upstream: Iterable[str] = (),
    **inputs: literals_pb2.BindingData,
) -> workflow_pb2.Node:
    return workflow_pb2.Node(
        id=node_id,
        metadata=workflow_pb2.NodeMetadata(name=t.id.name),
        inputs=bind(**inputs),
        upstream_node_ids=list(upstream),
        task_node=workflow_pb2.TaskNode(reference_id=t.id),
    )


def workflow(
    name: str,
    nodes: list[workflow_pb2.Node],
    outputs: list[literals_pb2.Binding],
    *,
    inputs: dict[str, types_pb2.LiteralType] | None = None,
    out_types: dict[str, types_pb2.LiteralType] | None = None,
    on_failure: int = 0,
    failure_node: workflow_pb2.Node | None = None,
) -> workflow_pb2.WorkflowTemplate:
    wf = workflow_pb2.WorkflowTemplate(
        id=ident(name, identifier_pb2.RESOURCE_TYPE_WORKFLOW),
        metadata=workflow_pb2.WorkflowMetadata(on_failure=on_failure),  # type: ignore[arg-type]
        interface=iface(inputs if inputs is not None else {"x": INT}, out_types or {}),
        nodes=nodes,
        outputs=outputs,
    )
    if failure_node is not None:
        wf.failure_node.CopyFrom(failure_node)
    return wf


def compile_(
    wf: workflow_pb2.WorkflowTemplate,
    tasks: Iterable[tasks_pb2.TaskTemplate],
    subs: Iterable[workflow_pb2.WorkflowTemplate] = (),
    launch_plans: dict[str, interface_pb2.TypedInterface] | None = None,
) -> compiler_pb2.CompiledWorkflowClosure:
    return compile_workflow(
        wf,
        tasks={id_key(t.id): t for t in tasks},
        subworkflows={id_key(s.id): s for s in subs},
        launch_plans=launch_plans or {},
    )


def ints(**kw: int) -> literals_pb2.LiteralMap:
    m = literals_pb2.LiteralMap()
    for k, v in kw.items():
        m.literals[k].scalar.primitive.integer = v
    return m


def int_list(values: Iterable[int]) -> literals_pb2.Literal:
    lit = literals_pb2.Literal()
    for v in values:
        lit.collection.literals.add().scalar.primitive.integer = v
    return lit


def gt(var: str, value: int) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=condition_pb2.ComparisonExpression.OPERATOR_GT,
            left_value=condition_pb2.Operand(var=var),
            right_value=condition_pb2.Operand(primitive=literals_pb2.Primitive(integer=value)),
        )
    )
