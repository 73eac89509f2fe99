"""Small constructors for interfaces, tasks, bindings and nodes.

For tests and tools that assemble workflow templates by hand (the SDK builds them from Python
functions instead). Plain messages in, plain messages out.
"""

from __future__ import annotations

from collections.abc import Mapping

from skyloom_idl.core import (
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2,
)

Bindable = literals_pb2.BindingData | literals_pb2.Literal | types_pb2.OutputReference


def variable_map(types: Mapping[str, types_pb2.LiteralType]) -> interface_pb2.VariableMap:
    """A VariableMap keeping the given order."""
    return interface_pb2.VariableMap(
        variables={k: interface_pb2.Variable(type=v) for k, v in types.items()},
        order=list(types),
    )


def interface(
    inputs: Mapping[str, types_pb2.LiteralType] | None = None,
    outputs: Mapping[str, types_pb2.LiteralType] | None = None,
) -> interface_pb2.TypedInterface:
    return interface_pb2.TypedInterface(
        inputs=variable_map(inputs or {}), outputs=variable_map(outputs or {})
    )


def entity_id(
    name: str,
    *,
    kind: identifier_pb2.ResourceType.ValueType = identifier_pb2.RESOURCE_TYPE_TASK,
    project: str = "proj",
    domain: str = "dev",
    version: str = "v1",
) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=kind, project=project, domain=domain, name=name, version=version
    )


def task_template(
    name: str,
    inputs: Mapping[str, types_pb2.LiteralType] | None = None,
    outputs: Mapping[str, types_pb2.LiteralType] | None = None,
    *,
    cache_version: str = "",
    ignored_inputs: tuple[str, ...] = (),
) -> tasks_pb2.TaskTemplate:
    """A python task ``proj/dev/<name>@v1``; caching on when ``cache_version`` is given."""
    cache = tasks_pb2.CacheConfig(
        enabled=bool(cache_version), version=cache_version, ignored_inputs=ignored_inputs
    )
    return tasks_pb2.TaskTemplate(
        id=entity_id(name),
        type="python",
        interface=interface(inputs, outputs),
        metadata=tasks_pb2.TaskMetadata(cache=cache),
    )


def promise(node_id: str, var: str, *attrs: str | int) -> types_pb2.OutputReference:
    """``node_id.var`` followed by attribute names (str) or list indices (int)."""
    path = [
        types_pb2.PromiseAttribute(int_value=a)
        if isinstance(a, int)
        else types_pb2.PromiseAttribute(string_value=a)
        for a in attrs
    ]
    return types_pb2.OutputReference(node_id=node_id, var=var, attr_path=path)


def binding_data(value: Bindable) -> literals_pb2.BindingData:
    """Wrap a promise or a scalar literal as BindingData (BindingData passes through)."""
    if isinstance(value, literals_pb2.BindingData):
        return value
    if isinstance(value, types_pb2.OutputReference):
        return literals_pb2.BindingData(promise=value)
    return literals_pb2.BindingData(scalar=value.scalar)


def bindings(values: Mapping[str, Bindable]) -> list[literals_pb2.Binding]:
    return [literals_pb2.Binding(var=k, binding=binding_data(v)) for k, v in values.items()]


def task_node(
    node_id: str,
    task: tasks_pb2.TaskTemplate,
    inputs: Mapping[str, Bindable] | None = None,
    *,
    after: tuple[str, ...] = (),
    name: str = "",
    source: str = "",
) -> workflow_pb2.Node:
    """A node running ``task`` with the given input bindings, after ``after``."""
    return workflow_pb2.Node(
        id=node_id,
        metadata=workflow_pb2.NodeMetadata(name=name or task.id.name, source_location=source),
        inputs=bindings(inputs or {}),
        upstream_node_ids=list(after),
        task_node=workflow_pb2.TaskNode(reference_id=task.id),
    )


def workflow_template(
    name: str,
    nodes: list[workflow_pb2.Node],
    *,
    inputs: Mapping[str, types_pb2.LiteralType] | None = None,
    outputs: Mapping[str, types_pb2.LiteralType] | None = None,
    output_bindings: Mapping[str, Bindable] | None = None,
    source: str = "",
) -> workflow_pb2.WorkflowTemplate:
    return workflow_pb2.WorkflowTemplate(
        id=entity_id(name, kind=identifier_pb2.RESOURCE_TYPE_WORKFLOW),
        metadata=workflow_pb2.WorkflowMetadata(source_location=source),
        interface=interface(inputs, outputs),
        nodes=nodes,
        outputs=bindings(output_bindings or {}),
    )
