"""Launch plan validation and closure building (pure; the workflow comes from the caller).

Checks, each reported with its field path under ``spec.``:

- ``default_inputs.parameters["x"]``: an input of the workflow, with the same type; its
  default (if any) must be a value of that type;
- ``fixed_inputs.literals["x"]``: an input of the workflow, a value of its type, and not also
  a default input (a fixed input cannot be overridden);
- ``schedule``: :func:`skyloom_core.schedules.validate_schedule` (the scheduler's own rules,
  ADR 0110); a scheduled launch plan binds every required input (other than the kickoff-time
  input);
- ``triggers[i]``: :func:`skyloom_core.schedules.validate_triggers`, and each binding sets an
  input of the workflow that is not fixed;
- ``notifications[i]``, ``labels``, ``annotations``, ``description``.

At activation, :func:`trigger_cycles` refuses an execution trigger that would close a cycle
among the active launch plans (ADR 0114).
"""

from __future__ import annotations

from collections.abc import Mapping

from skyloom_admin.validation import check_labels, check_text, violations_of
from skyloom_common.errors import FieldViolation
from skyloom_core.schedules import (
    NamedKey,
    find_trigger_cycles,
    validate_schedule,
    validate_triggers,
)
from skyloom_core.types import is_castable, type_name
from skyloom_core.validation import key_path, validate_literal
from skyloom_idl.admin import launch_plan_pb2
from skyloom_idl.core import identifier_pb2, interface_pb2

__all__ = ["expected_inputs", "has_execution_triggers", "trigger_cycles", "validate_spec"]


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


def _trigger_bindings(
    spec: launch_plan_pb2.LaunchPlanSpec, inputs: interface_pb2.VariableMap
) -> list[FieldViolation]:
    # The shared rules (validate_triggers) check the bindings' shape; only admin knows the
    # workflow's inputs and the launch plan's fixed inputs.
    out: list[FieldViolation] = []
    for i, trigger in enumerate(spec.triggers):
        for j, binding in enumerate(trigger.bindings):
            where = f"spec.triggers[{i}].bindings[{j}].input"
            if not binding.input:
                continue  # reported by validate_triggers
            if binding.input not in inputs.variables:
                out.append(FieldViolation(where, f"the workflow has no input {binding.input!r}"))
            elif binding.input in spec.fixed_inputs.literals:
                out.append(FieldViolation(where, f"input {binding.input!r} is fixed"))
    return out


def has_execution_triggers(spec: launch_plan_pb2.LaunchPlanSpec) -> bool:
    """Whether activating ``spec`` adds edges to the trigger graph (and so could close a cycle)."""
    return any(t.WhichOneof("source") == "on_execution" for t in spec.triggers)


def trigger_cycles(
    id: identifier_pb2.Identifier,
    spec: launch_plan_pb2.LaunchPlanSpec,
    active: Mapping[NamedKey, bytes],
) -> list[FieldViolation]:
    """A violation at ``spec.triggers[i].on_execution.launch_plan`` for each execution trigger
    of ``spec`` that would close a cycle once ``id`` is active; ``active`` holds the stored
    specs of every other active launch plan with triggers, by name."""
    others = {
        key: launch_plan_pb2.LaunchPlanSpec.FromString(stored).triggers
        for key, stored in active.items()
    }
    key = (id.project, id.domain, id.name)
    return violations_of(find_trigger_cycles(key, spec.triggers, others, "spec.triggers"))


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
        out += violations_of(
            validate_schedule(spec.schedule, "spec.schedule", inputs=inputs, fixed=fixed)
        )
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
    out += violations_of(validate_triggers(spec.triggers, "spec.triggers"))
    out += _trigger_bindings(spec, inputs)
    out += _notifications(spec)
    out += check_labels(spec.labels.values, "spec.labels")
    out += check_text(spec.description, "spec.description", limit=4096)
    return out
