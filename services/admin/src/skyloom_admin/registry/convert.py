"""Rows to messages for launch plans, and the entity event announcing a state change."""

from __future__ import annotations

from skyloom_admin.registry.repository import LaunchPlanRow
from skyloom_admin.streams import launch_plan_subject
from skyloom_core.compiler import LaunchPlanInterface
from skyloom_idl.admin import launch_plan_pb2
from skyloom_idl.core import interface_pb2
from skyloom_idl.event import entity_pb2

__all__ = ["announce", "launch_plan_of", "lp_interface"]

State = launch_plan_pb2.LaunchPlan.State


def launch_plan_of(row: LaunchPlanRow) -> launch_plan_pb2.LaunchPlan:
    closure = launch_plan_pb2.LaunchPlanClosure.FromString(row.closure)
    closure.state = row.state  # type: ignore[assignment]
    closure.created_at.FromDatetime(row.created_at)
    closure.updated_at.FromDatetime(row.updated_at)
    return launch_plan_pb2.LaunchPlan(
        id=row.id, spec=launch_plan_pb2.LaunchPlanSpec.FromString(row.spec), closure=closure
    )


def lp_interface(lp: launch_plan_pb2.LaunchPlan) -> LaunchPlanInterface:
    """A launch plan as a node target: its expected inputs and the workflow's outputs."""
    inputs = interface_pb2.VariableMap()
    defaults = set()
    for name, parameter in lp.closure.expected_inputs.parameters.items():
        inputs.variables[name].CopyFrom(parameter.var)
        if not parameter.required or parameter.HasField("default"):
            defaults.add(name)
    interface = interface_pb2.TypedInterface(inputs=inputs, outputs=lp.closure.expected_outputs)
    return LaunchPlanInterface(interface=interface, defaults=frozenset(defaults))


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace(":", "%3A")


def announce(row: LaunchPlanRow, revision: int, state: int) -> tuple[str, bytes, str]:
    lp = launch_plan_of(row)
    i = row.id
    event_id = ":".join(
        ["lp", *(_escape(p) for p in (i.project, i.domain, i.name, i.version)), str(revision)]
    )
    change = (
        entity_pb2.LaunchPlanChanged.CHANGE_ACTIVATED
        if state == State.STATE_ACTIVE
        else entity_pb2.LaunchPlanChanged.CHANGE_DEACTIVATED
    )
    event = entity_pb2.EntityEvent(
        event_id=event_id,
        revision=revision,
        launch_plan=entity_pb2.LaunchPlanChanged(change=change, launch_plan=lp),
    )
    event.occurred_at.FromDatetime(row.updated_at)
    return launch_plan_subject(i.project, i.domain), event.SerializeToString(), event_id
