"""The interface of each kind of node target: task, subworkflow, launch plan, gate, array.

Branch nodes are handled by ``_branch`` (their interface depends on their inner nodes). Every
lookup failure or malformed target is reported here, with the target's field path.
"""

from __future__ import annotations

from typing import Any

from skyloom_core.compiler._context import Entities, Interface, Location, Sink, variables
from skyloom_core.compiler.codes import ErrorCode
from skyloom_core.refs import Resolved, id_key
from skyloom_idl.core import identifier_pb2, types_pb2, workflow_pb2

DEFAULT_SIGNAL_OUTPUT = "o0"


def _not_found(
    found: Resolved[Any],
    ref: identifier_pb2.Identifier,
    what: str,
    code: ErrorCode,
    sink: Sink,
    loc: Location,
    path: str,
) -> None:
    if len(found.candidates) > 1:
        listed = ", ".join(found.candidates)
        msg = f"{loc.display} refers to {what} {id_key(ref)}, which matches several: {listed}"
        sink.at(loc, ErrorCode.AMBIGUOUS_REFERENCE, msg, path)
    else:
        msg = f"{loc.display} refers to {what} {id_key(ref)}, which was not found"
        sink.at(loc, code, msg, path)


def task_interface(
    node: workflow_pb2.TaskNode, entities: Entities, sink: Sink, loc: Location, path: str
) -> Interface | None:
    found = entities.task(node.reference_id)
    if found.value is None:
        code = ErrorCode.TASK_REFERENCE_NOT_FOUND
        _not_found(found, node.reference_id, "task", code, sink, loc, f"{path}.reference_id")
        return None
    node.reference_id.CopyFrom(found.value.id)
    iface = found.value.interface
    return Interface(
        variables(iface.inputs), variables(iface.outputs), frozenset(iface.inputs.variables)
    )


def workflow_interface(
    node: workflow_pb2.WorkflowNode, entities: Entities, sink: Sink, loc: Location, path: str
) -> Interface | None:
    kind = node.WhichOneof("reference")
    if kind == "sub_workflow_ref":
        found = entities.subworkflow(node.sub_workflow_ref)
        if found.value is None:
            code = ErrorCode.WORKFLOW_REFERENCE_NOT_FOUND
            sub_path = f"{path}.sub_workflow_ref"
            _not_found(found, node.sub_workflow_ref, "subworkflow", code, sink, loc, sub_path)
            return None
        node.sub_workflow_ref.CopyFrom(found.value.id)
        iface = found.value.interface
        inputs = variables(iface.inputs)
        return Interface(inputs, variables(iface.outputs), frozenset(inputs))
    if kind == "launchplan_ref":
        lp = entities.launch_plan(node.launchplan_ref)
        if lp.value is None:
            code = ErrorCode.LAUNCH_PLAN_REFERENCE_NOT_FOUND
            lp_path = f"{path}.launchplan_ref"
            _not_found(lp, node.launchplan_ref, "launch plan", code, sink, loc, lp_path)
            return None
        ref = node.launchplan_ref
        from skyloom_core.refs import parse_id_key

        resolved = parse_id_key(
            lp.key, ref.resource_type or identifier_pb2.RESOURCE_TYPE_LAUNCH_PLAN
        )
        ref.CopyFrom(resolved)
        inputs = variables(lp.value.interface.inputs)
        required = frozenset(inputs) - lp.value.defaults
        return Interface(inputs, variables(lp.value.interface.outputs), required)
    sink.at(
        loc,
        ErrorCode.NODE_HAS_NO_TARGET,
        f"{loc.display} is a workflow node with no reference",
        path,
    )
    return None


def gate_interface(node: workflow_pb2.GateNode, sink: Sink, loc: Location, path: str) -> Interface:
    """Approve and sleep gates pass their inputs through as outputs of the same name; a
    signal gate outputs the signalled value (``output_variable_name``, default ``o0``)."""
    kind = node.WhichOneof("condition")
    if kind == "signal":
        sig = node.signal
        if not sig.signal_id:
            sink.at(
                loc,
                ErrorCode.INVALID_GATE_NODE,
                f"{loc.display} waits for a signal with no id",
                f"{path}.signal.signal_id",
            )
        if sig.type.WhichOneof("type") is None:
            msg = f"{loc.display} waits for signal '{sig.signal_id}' but does not say its type"
            sink.at(loc, ErrorCode.INVALID_GATE_NODE, msg, f"{path}.signal.type")
            return Interface(
                open_inputs=True, outputs={sig.output_variable_name or DEFAULT_SIGNAL_OUTPUT: None}
            )
        return Interface(
            open_inputs=True, outputs={sig.output_variable_name or DEFAULT_SIGNAL_OUTPUT: sig.type}
        )
    if kind == "approve" and not node.approve.signal_id:
        sink.at(
            loc,
            ErrorCode.INVALID_GATE_NODE,
            f"{loc.display} waits for an approval with no signal id",
            f"{path}.approve.signal_id",
        )
    elif kind == "sleep" and not node.sleep.HasField("duration"):
        sink.at(
            loc,
            ErrorCode.INVALID_GATE_NODE,
            f"{loc.display} sleeps with no duration",
            f"{path}.sleep.duration",
        )
    elif kind is None:
        sink.at(
            loc, ErrorCode.INVALID_GATE_NODE, f"{loc.display} is a gate with no condition", path
        )
    return Interface(open_inputs=True, passthrough=True)


def array_interface(
    node: workflow_pb2.ArrayNode, entities: Entities, sink: Sink, loc: Location, path: str
) -> Interface | None:
    """Inputs of the sub-node's target become ``list[T]`` (or stay ``T`` to be broadcast);
    each output ``T`` becomes ``list[T]``."""
    if node.HasField("min_success_ratio") and not 0.0 < node.min_success_ratio <= 1.0:
        msg = f"{loc.display} has min_success_ratio {node.min_success_ratio}; it must be in (0, 1]"
        sink.at(loc, ErrorCode.INVALID_ARRAY_NODE, msg, f"{path}.min_success_ratio")
    if not node.HasField("node"):
        sink.at(
            loc,
            ErrorCode.INVALID_ARRAY_NODE,
            f"{loc.display} is an array node with no sub-node",
            f"{path}.node",
        )
        return None
    sub = node.node
    kind = sub.WhichOneof("target")
    sub_path = f"{path}.node"
    if kind == "task_node":
        inner = task_interface(sub.task_node, entities, sink, loc, f"{sub_path}.task_node")
    elif kind == "workflow_node":
        inner = workflow_interface(
            sub.workflow_node, entities, sink, loc, f"{sub_path}.workflow_node"
        )
    else:
        what = kind.removesuffix("_node") if kind else "no"
        msg = f"{loc.display} maps over a {what} node; only task and workflow nodes can be mapped"
        sink.at(loc, ErrorCode.INVALID_ARRAY_NODE, msg, f"{sub_path}.{kind}" if kind else sub_path)
        return None
    if inner is None:
        return None
    lists: dict[str, types_pb2.LiteralType | None] = {
        name: types_pb2.LiteralType(collection_type=t) if t is not None else None
        for name, t in inner.inputs.items()
    }
    outs: dict[str, types_pb2.LiteralType | None] = {
        name: types_pb2.LiteralType(collection_type=t) if t is not None else None
        for name, t in inner.outputs.items()
    }
    return Interface(lists, outs, inner.required, array_of=dict(inner.inputs))
