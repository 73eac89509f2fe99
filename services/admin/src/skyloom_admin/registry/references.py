"""The entities a workflow template refers to: tasks, subworkflows, launch plans (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from skyloom_idl.core import identifier_pb2, workflow_pb2

__all__ = ["References", "references_of"]


@dataclass
class References:
    tasks: list[identifier_pb2.Identifier] = field(default_factory=list)
    subworkflows: list[identifier_pb2.Identifier] = field(default_factory=list)
    launch_plans: list[identifier_pb2.Identifier] = field(default_factory=list)


def _nodes(node: workflow_pb2.Node) -> Iterator[workflow_pb2.Node]:
    yield node
    kind = node.WhichOneof("target")
    if kind == "branch_node":
        if_else = node.branch_node.if_else
        for block in [if_else.case, *if_else.other]:
            if block.HasField("then_node"):
                yield from _nodes(block.then_node)
        if if_else.HasField("else_node"):
            yield from _nodes(if_else.else_node)
    elif kind == "array_node" and node.array_node.HasField("node"):
        yield from _nodes(node.array_node.node)


def references_of(template: workflow_pb2.WorkflowTemplate) -> References:
    refs = References()
    roots = list(template.nodes)
    if template.HasField("failure_node"):
        roots.append(template.failure_node)
    for root in roots:
        for node in _nodes(root):
            kind = node.WhichOneof("target")
            if kind == "task_node":
                refs.tasks.append(node.task_node.reference_id)
            elif kind == "workflow_node":
                wf = node.workflow_node
                if wf.WhichOneof("reference") == "sub_workflow_ref":
                    refs.subworkflows.append(wf.sub_workflow_ref)
                elif wf.WhichOneof("reference") == "launchplan_ref":
                    refs.launch_plans.append(wf.launchplan_ref)
    return refs
