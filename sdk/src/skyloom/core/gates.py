"""Gates: ``sleep``, ``wait_for_input`` and ``approve`` pause a workflow."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from skyloom._engine import engine
from skyloom._errors import CompileError
from skyloom._source import caller_location
from skyloom.core._state import CompileState, current_state
from skyloom.core.node import NodeBuilder
from skyloom.core.promise import Promise
from skyloom.resources import required_duration
from skyloom_idl.core import literals_pb2, workflow_pb2

T = TypeVar("T")


class _Gate:
    kind = "gate"
    output_tuple = None

    def __init__(self, name: str) -> None:
        self.short_name = name


def _state(what: str) -> tuple[CompileState, str]:
    location = caller_location()
    state = current_state()
    if state is None:
        raise CompileError(
            f"{what} ({location}) is only valid in a workflow body", location=location
        )
    return state, location


def _node(
    state: CompileState, name: str, location: str, timeout: Any, outputs: dict[str, Any]
) -> NodeBuilder:
    proto = workflow_pb2.Node(
        id=state.next_id(), metadata=workflow_pb2.NodeMetadata(name=name, source_location=location)
    )
    if timeout is not None:
        proto.metadata.timeout.CopyFrom(required_duration(timeout))
    builder = NodeBuilder(proto, _Gate(name), outputs)
    state.nodes.append(builder)
    return builder


def sleep(duration_: dt.timedelta | int | float) -> NodeBuilder:
    """Wait a fixed time; order it with ``>>``."""
    state, location = _state("sleep()")
    node = _node(state, "sleep", location, None, {})
    node.proto.gate_node.sleep.duration.CopyFrom(required_duration(duration_))
    return node


def wait_for_input(name: str, timeout: dt.timedelta | int | float, expected_type: type[T]) -> T:
    """A value of ``expected_type`` someone provides while the workflow runs."""
    state, location = _state(f"wait_for_input('{name}')")
    engine().literal_type(expected_type)
    node = _node(state, name, location, timeout, {"o0": expected_type})
    node.proto.gate_node.signal.signal_id = name
    node.proto.gate_node.signal.type.CopyFrom(engine().literal_type(expected_type))
    node.proto.gate_node.signal.output_variable_name = "o0"
    result: T = node.outputs()
    return result


def approve(upstream: T, name: str, timeout: dt.timedelta | int | float) -> T:
    """Pass ``upstream`` on once someone approves (a rejection fails the workflow)."""
    state, location = _state(f"approve('{name}')")
    if not isinstance(upstream, Promise):
        raise CompileError(
            f"{state.where(location)}: approve('{name}') takes a node output, got {upstream!r}",
            location=location,
        )
    node = _node(state, name, location, timeout, {"o0": upstream.py_type})
    node.proto.gate_node.approve.signal_id = name
    node.proto.inputs.append(
        literals_pb2.Binding(var="o0", binding=literals_pb2.BindingData(promise=upstream.ref()))
    )
    result: T = node.outputs()
    return result
