"""Trigger input binding, pure: the inputs of an execution a trigger starts.

Each :class:`TriggerBinding` picks one input from the upstream execution's outputs, the
trigger message's values, what the trigger knows about itself, or a constant. A binding that
cannot be satisfied raises :class:`BindingError` with the binding's field path; the fire is
then recorded as rejected instead of starting an execution with missing inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from skyloom_idl.admin import trigger_pb2
from skyloom_idl.core import literals_pb2
from skyloom_scheduler.planning import datetime_literal

__all__ = ["BindingError", "TriggerContext", "bind_trigger_inputs"]

_Ctx = trigger_pb2.TriggerBinding


class BindingError(Exception):
    """A binding could not be satisfied; ``field_path`` points into the launch plan spec."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


@dataclass(frozen=True)
class TriggerContext:
    """What one trigger firing knows."""

    fired_at: datetime
    upstream_execution: str = ""
    upstream_outputs: literals_pb2.LiteralMap = field(default_factory=literals_pb2.LiteralMap)
    message_values: literals_pb2.LiteralMap = field(default_factory=literals_pb2.LiteralMap)


def _string(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value))
    )


def bind_trigger_inputs(
    trigger: trigger_pb2.Trigger, ctx: TriggerContext, path: str
) -> literals_pb2.LiteralMap:
    """The inputs ``trigger`` (at ``path``, e.g. ``spec.triggers[0]``) binds for ``ctx``."""
    inputs = literals_pb2.LiteralMap()
    for j, binding in enumerate(trigger.bindings):
        where = f"{path}.bindings[{j}]"
        kind = binding.WhichOneof("source")
        if kind == "upstream_output":
            name = binding.upstream_output
            if name not in ctx.upstream_outputs.literals:
                raise BindingError(f"{where}.upstream_output", f"no upstream output {name!r}")
            value = ctx.upstream_outputs.literals[name]
        elif kind == "message_value":
            name = binding.message_value
            if name not in ctx.message_values.literals:
                raise BindingError(f"{where}.message_value", f"the message has no value {name!r}")
            value = ctx.message_values.literals[name]
        elif kind == "constant":
            value = binding.constant
        elif kind == "context" and binding.context == _Ctx.CONTEXT_VALUE_FIRED_AT:
            value = datetime_literal(ctx.fired_at)
        elif kind == "context" and binding.context == _Ctx.CONTEXT_VALUE_UPSTREAM_EXECUTION_NAME:
            if not ctx.upstream_execution:
                raise BindingError(f"{where}.context", "no upstream execution")
            value = _string(ctx.upstream_execution)
        else:
            raise BindingError(where, "a binding needs a source")
        inputs.literals[binding.input].CopyFrom(value)
    return inputs
