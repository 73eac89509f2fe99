"""Sans-I/O parts of the registry: diffs, reference walking, schedule rules."""

from __future__ import annotations

import pytest

from skyloom_admin.registry.diff import describe_diff, field_diff
from skyloom_admin.registry.references import references_of
from skyloom_admin.registry.schedules import validate_schedule
from skyloom_idl.admin import schedule_pb2
from skyloom_idl.core import identifier_pb2, interface_pb2, tasks_pb2, types_pb2
from skyloom_idl.core import workflow_pb2 as wf

from .conftest import DATETIME, INT, variables


def test_diff_names_leaves_map_keys_and_list_items() -> None:
    old = tasks_pb2.TaskTemplate(type="python", config={"a": "1", "b": "2"})
    old.container.args.extend(["x", "y"])
    new = tasks_pb2.TaskTemplate(type="spark", config={"a": "1", "c": "3"})
    new.container.args.extend(["x"])
    new.metadata.interruptible = True
    lines = field_diff(old, new, "spec.template")
    assert "spec.template.type: 'python' -> 'spark'" in lines
    assert 'spec.template.config["b"]: removed' in lines
    assert 'spec.template.config["c"]: added' in lines
    assert "spec.template.container.args[1]: removed" in lines
    assert "spec.template.metadata: added" in lines
    assert field_diff(old, old, "x") == []


def test_diff_is_capped() -> None:
    old = tasks_pb2.TaskTemplate(config={str(i): "a" for i in range(30)})
    new = tasks_pb2.TaskTemplate(config={str(i): "b" for i in range(30)})
    text = describe_diff(old, new, "spec")
    assert "and 10 more differences" in text


def _task_node(node_id: str, name: str) -> wf.Node:
    return wf.Node(
        id=node_id,
        task_node=wf.TaskNode(reference_id=identifier_pb2.Identifier(name=name, version="v")),
    )


def test_references_are_found_in_branches_arrays_and_the_failure_node() -> None:
    branch = wf.Node(id="b")
    branch.branch_node.if_else.case.then_node.CopyFrom(_task_node("t1", "in-then"))
    branch.branch_node.if_else.other.add().then_node.CopyFrom(_task_node("t2", "in-other"))
    branch.branch_node.if_else.else_node.CopyFrom(_task_node("t3", "in-else"))
    array = wf.Node(id="a")
    array.array_node.node.CopyFrom(_task_node("t4", "in-array"))
    sub = wf.Node(id="s")
    sub.workflow_node.sub_workflow_ref.name = "child"
    plan = wf.Node(id="l")
    plan.workflow_node.launchplan_ref.name = "lp"
    template = wf.WorkflowTemplate(nodes=[branch, array, sub, plan])
    template.failure_node.CopyFrom(_task_node("f", "on-failure"))
    refs = references_of(template)
    assert [r.name for r in refs.tasks] == [
        "in-then",
        "in-other",
        "in-else",
        "in-array",
        "on-failure",
    ]
    assert [r.name for r in refs.subworkflows] == ["child"]
    assert [r.name for r in refs.launch_plans] == ["lp"]


INPUTS: interface_pb2.VariableMap = variables(x=INT, when=DATETIME)
Cron = schedule_pb2.CronSchedule
Rate = schedule_pb2.FixedRate


@pytest.mark.parametrize(
    "schedule",
    [
        schedule_pb2.Schedule(cron=Cron(expression="*/15 2-4 * * mon-fri")),
        schedule_pb2.Schedule(cron=Cron(expression="@hourly", time_zone="Europe/Berlin")),
        schedule_pb2.Schedule(rate=Rate(value=90, unit=Rate.UNIT_MINUTE)),
        schedule_pb2.Schedule(cron=Cron(expression="@daily"), kickoff_time_input_arg="when"),
    ],
)
def test_valid_schedules(schedule: schedule_pb2.Schedule) -> None:
    assert validate_schedule(schedule, "s", inputs=INPUTS, fixed=frozenset()) == []


@pytest.mark.parametrize(
    ("schedule", "fixed", "path"),
    [
        (schedule_pb2.Schedule(), (), "s"),
        (schedule_pb2.Schedule(cron=Cron(expression="0 0 * * * *")), (), "s.cron.expression"),
        (schedule_pb2.Schedule(cron=Cron(expression="0 0 * *\x00 *")), (), "s.cron.expression"),
        (
            schedule_pb2.Schedule(cron=Cron(expression="@daily", time_zone="UTC+99")),
            (),
            "s.cron.time_zone",
        ),
        (schedule_pb2.Schedule(rate=Rate(value=1, unit=Rate.UNIT_UNSPECIFIED)), (), "s.rate.unit"),
        (
            schedule_pb2.Schedule(cron=Cron(expression="@daily"), kickoff_time_input_arg="when"),
            ("when",),
            "s.kickoff_time_input_arg",
        ),
    ],
)
def test_invalid_schedules(
    schedule: schedule_pb2.Schedule, fixed: tuple[str, ...], path: str
) -> None:
    found = validate_schedule(schedule, "s", inputs=INPUTS, fixed=frozenset(fixed))
    assert [v.field for v in found] == [path]


def test_kickoff_input_of_another_type() -> None:
    inputs = variables(when=types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_STRING))
    schedule = schedule_pb2.Schedule(cron=Cron(expression="@daily"), kickoff_time_input_arg="when")
    found = validate_schedule(schedule, "s", inputs=inputs, fixed=frozenset())
    assert [v.description for v in found] == ["input 'when' is not a datetime"]
