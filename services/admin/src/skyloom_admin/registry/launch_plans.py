"""Launch plan validation and closure building (pure; the workflow comes from the caller).

Checks, each reported with its field path under ``spec.``:

- ``default_inputs.parameters["x"]``: an input of the workflow, with the same type; its
  default (if any) must be a value of that type;
- ``fixed_inputs.literals["x"]``: an input of the workflow, a value of its type, and not also
  a default input (a fixed input cannot be overridden);
- ``schedule``: see :mod:`.schedules`; a scheduled launch plan binds every required input
  (other than the kickoff-time input);
- ``triggers[i]``, ``notifications[i]``, ``labels``, ``annotations``, ``description``.
"""

from __future__ import annotations

import re

from skyloom_admin.registry.schedules import validate_schedule
from skyloom_admin.validation import check_labels, check_text
from skyloom_common.errors import FieldViolation
from skyloom_core.types import is_castable, type_name
from skyloom_core.validation import key_path, validate_literal
from skyloom_idl.admin import launch_plan_pb2
from skyloom_idl.core import interface_pb2

__all__ = ["expected_inputs", "validate_spec"]

_TRIGGER_NAME = re.compile(r"[a-z0-9-]{1,63}\Z")
_SUBJECT = re.compile(r"[A-Za-z0-9_-]{1,128}\Z")


def expected_inputs(
    spec: launch_plan_pb2.LaunchPlanSpec, workflow: interface_pb2.TypedInterface
) -> interface_pb2.ParameterMap:
    """What an execution may set: the default inputs, plus the workflow's inputs that are
    neither defaulted nor fixed (required)."""
    out = interface_pb2.ParameterMap()
    for name, variable in workflow.inputs.variables.items():
        if name in spec.fixed_inputs.literals:
            continue
        if name in spec.default_inputs.parameters:
            out.parameters[name].CopyFrom(spec.default_inputs.parameters[name])
        else:
            out.parameters[name].var.CopyFrom(variable)
            out.parameters[name].required = True
    return out


def _defaults(
    spec: launch_plan_pb2.LaunchPlanSpec, inputs: interface_pb2.VariableMap
) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    for name in sorted(spec.default_inputs.parameters):
        where = key_path("spec.default_inputs.parameters", name)
        parameter = spec.default_inputs.parameters[name]
        declared = inputs.variables.get(name)
        if declared is None:
            out.append(FieldViolation(where, f"the workflow has no input {name!r}"))
            continue
        if parameter.HasField("var") and not is_castable(parameter.var.type, declared.type):
            out.append(
                FieldViolation(
                    f"{where}.var.type",
                    f"is {type_name(parameter.var.type)}, the workflow's input is "
                    f"{type_name(declared.type)}",
                )
            )
        if parameter.HasField("default"):
            out += [
                FieldViolation(v.field_path, v.message)
                for v in validate_literal(parameter.default, declared.type, f"{where}.default")
            ]
        if name in spec.fixed_inputs.literals:
            out.append(
                FieldViolation(
                    key_path("spec.fixed_inputs.literals", name),
                    f"input {name!r} is both a default and a fixed input; a fixed input "
                    "cannot be overridden",
                )
            )
    for name in sorted(spec.fixed_inputs.literals):
        where = key_path("spec.fixed_inputs.literals", name)
        declared = inputs.variables.get(name)
        if declared is None:
            out.append(FieldViolation(where, f"the workflow has no input {name!r}"))
            continue
        out += [
            FieldViolation(v.field_path, v.message)
            for v in validate_literal(spec.fixed_inputs.literals[name], declared.type, where)
        ]
    return out


def _triggers(
    spec: launch_plan_pb2.LaunchPlanSpec, inputs: interface_pb2.VariableMap
) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    seen: set[str] = set()
    for i, trigger in enumerate(spec.triggers):
        where = f"spec.triggers[{i}]"
        if not _TRIGGER_NAME.match(trigger.name) or trigger.name in seen:
            out.append(FieldViolation(f"{where}.name", "must be unique and match [a-z0-9-]{1,63}"))
        seen.add(trigger.name)
        source = trigger.WhichOneof("source")
        if source is None:
            out.append(FieldViolation(where, "needs on_execution or on_message"))
        elif source == "on_message" and not _SUBJECT.match(trigger.on_message.subject):
            out.append(FieldViolation(f"{where}.on_message.subject", "must match [A-Za-z0-9_-]+"))
        elif source == "on_execution" and not trigger.on_execution.phases:
            out.append(FieldViolation(f"{where}.on_execution.phases", "at least one phase"))
        for j, binding in enumerate(trigger.bindings):
            if binding.input not in inputs.variables:
                out.append(
                    FieldViolation(f"{where}.bindings[{j}].input", f"no input {binding.input!r}")
                )
            elif binding.input in spec.fixed_inputs.literals:
                out.append(FieldViolation(f"{where}.bindings[{j}].input", "is a fixed input"))
    return out


def _notifications(spec: launch_plan_pb2.LaunchPlanSpec) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    for i, notification in enumerate(spec.notifications):
        where = f"spec.notifications[{i}]"
        if not notification.phases:
            out.append(FieldViolation(f"{where}.phases", "at least one phase is required"))
        kind = notification.WhichOneof("type")
        if kind is None:
            out.append(FieldViolation(where, "needs email, slack, webhook or log"))
        elif kind == "webhook":
            url = notification.webhook.url
            if not url.startswith(("http://", "https://")) or any(ord(c) <= 32 for c in url):
                out.append(FieldViolation(f"{where}.webhook.url", "must be an http(s) URL"))
    return out


def validate_spec(
    spec: launch_plan_pb2.LaunchPlanSpec, workflow: interface_pb2.TypedInterface
) -> list[FieldViolation]:
    """Every problem of ``spec`` against the workflow's interface."""
    inputs = workflow.inputs
    out = _defaults(spec, inputs)
    if spec.HasField("schedule"):
        fixed = frozenset(spec.fixed_inputs.literals)
        out += validate_schedule(spec.schedule, "spec.schedule", inputs=inputs, fixed=fixed)
        kickoff = spec.schedule.kickoff_time_input_arg
        params = expected_inputs(spec, workflow).parameters
        unbound = sorted(n for n, p in params.items() if p.required and n != kickoff)
        if unbound:
            out.append(
                FieldViolation(
                    "spec.schedule",
                    f"a scheduled launch plan must bind every required input; unbound: {unbound}",
                )
            )
    out += _triggers(spec, inputs)
    out += _notifications(spec)
    out += check_labels(spec.labels.values, "spec.labels")
    out += check_text(spec.description, "spec.description", limit=4096)
    return out
