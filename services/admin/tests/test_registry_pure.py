"""Sans-I/O parts of the registry: diffs, reference walking, launch plan schedules and
triggers (the shared rules of skyloom_core.schedules, as admin reports them)."""

from __future__ import annotations

import pytest

from skyloom_admin.registry.diff import describe_diff, field_diff
from skyloom_admin.registry.launch_plans import (
    has_execution_triggers,
    trigger_cycles,
    validate_spec,
)
from skyloom_admin.registry.references import references_of
from skyloom_idl.admin import launch_plan_pb2 as lp
from skyloom_idl.admin import schedule_pb2, trigger_pb2
from skyloom_idl.core import execution_pb2, identifier_pb2, interface_pb2, literals_pb2, tasks_pb2
from skyloom_idl.core import workflow_pb2 as wf

from .conftest import DATETIME, INT, STR, variables


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


INTERFACE = interface_pb2.TypedInterface(inputs=variables(x=INT, when=DATETIME))
Cron = schedule_pb2.CronSchedule
Rate = schedule_pb2.FixedRate
FIXED_X = literals_pb2.LiteralMap(
    literals={
        "x": literals_pb2.Literal(
            scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=1))
        )
    }
)


def _spec(schedule: schedule_pb2.Schedule, *fixed: str) -> lp.LaunchPlanSpec:
    spec = lp.LaunchPlanSpec(schedule=schedule, fixed_inputs=FIXED_X)
    for name in fixed:
        spec.fixed_inputs.literals[name].scalar.primitive.datetime.seconds = 1
    return spec


def _found(spec: lp.LaunchPlanSpec) -> list[tuple[str, str]]:
    return [(v.field, v.description) for v in validate_spec(spec, INTERFACE)]


@pytest.mark.parametrize(
    "schedule",
    [
        schedule_pb2.Schedule(cron=Cron(expression="*/15 2-4 * * mon-fri")),
        schedule_pb2.Schedule(cron=Cron(expression="@hourly", time_zone="Europe/Berlin")),
        schedule_pb2.Schedule(cron=Cron(expression="0 0 L * *")),
        schedule_pb2.Schedule(rate=Rate(value=90, unit=Rate.UNIT_MINUTE)),
        schedule_pb2.Schedule(cron=Cron(expression="@daily"), kickoff_time_input_arg="when"),
    ],
)
def test_valid_schedules(schedule: schedule_pb2.Schedule) -> None:
    assert _found(_spec(schedule, *([] if schedule.kickoff_time_input_arg else ["when"]))) == []


@pytest.mark.parametrize(
    ("schedule", "fixed", "path", "message"),
    [
        (
            schedule_pb2.Schedule(),
            (),
            "spec.schedule",
            "a schedule needs a cron expression or a rate",
        ),
        (
            schedule_pb2.Schedule(cron=Cron(expression="0 0 * * * *")),
            (),
            "spec.schedule.cron.expression",
            "needs five fields (minute hour day-of-month month day-of-week) or an alias",
        ),
        (
            schedule_pb2.Schedule(cron=Cron(expression="0 0 * *\x00 *")),
            (),
            "spec.schedule.cron.expression",
            "invalid cron expression '0 0 * *\\x00 *'",
        ),
        (
            schedule_pb2.Schedule(cron=Cron(expression="H * * * *")),
            (),
            "spec.schedule.cron.expression",
            "invalid cron expression 'H * * * *'",
        ),
        (
            schedule_pb2.Schedule(cron=Cron(expression="0 0 30 2 *")),
            (),
            "spec.schedule.cron.expression",
            "cron expression '0 0 30 2 *' never fires",
        ),
        (
            schedule_pb2.Schedule(cron=Cron(expression="@daily", time_zone="UTC+99")),
            (),
            "spec.schedule.cron.time_zone",
            "unknown time zone 'UTC+99'; use an IANA name",
        ),
        (
            schedule_pb2.Schedule(rate=Rate(value=0, unit=Rate.UNIT_HOUR)),
            (),
            "spec.schedule.rate.value",
            "must be at least 1",
        ),
        (
            schedule_pb2.Schedule(rate=Rate(value=1, unit=Rate.UNIT_UNSPECIFIED)),
            (),
            "spec.schedule.rate.unit",
            "must be MINUTE, HOUR or DAY",
        ),
        (
            schedule_pb2.Schedule(cron=Cron(expression="@daily"), kickoff_time_input_arg="when"),
            ("when",),
            "spec.schedule.kickoff_time_input_arg",
            "input 'when' is fixed by the launch plan",
        ),
    ],
)
def test_invalid_schedules(
    schedule: schedule_pb2.Schedule, fixed: tuple[str, ...], path: str, message: str
) -> None:
    found = _found(_spec(schedule, *(fixed or ("when",))))
    assert found == [(path, message)]


def test_kickoff_input_of_another_type() -> None:
    interface = interface_pb2.TypedInterface(inputs=variables(when=STR))
    schedule = schedule_pb2.Schedule(cron=Cron(expression="@daily"), kickoff_time_input_arg="when")
    found = validate_spec(lp.LaunchPlanSpec(schedule=schedule), interface)
    assert [(v.field, v.description) for v in found] == [
        ("spec.schedule.kickoff_time_input_arg", "input 'when' is not a datetime")
    ]


def _on(name: str, upstream: str, project: str = "p") -> trigger_pb2.Trigger:
    return trigger_pb2.Trigger(
        name=name,
        on_execution=trigger_pb2.ExecutionTrigger(
            launch_plan=identifier_pb2.NamedEntityIdentifier(
                project=project, domain="d", name=upstream
            ),
            phases=[execution_pb2.WorkflowExecution.Phase.PHASE_SUCCEEDED],
        ),
    )


def test_triggers_use_the_shared_rules_and_bind_workflow_inputs() -> None:
    spec = lp.LaunchPlanSpec(fixed_inputs=FIXED_X)
    spec.triggers.append(_on("up", "a"))
    spec.triggers.append(_on("up", "b"))  # duplicate name
    spec.triggers.append(trigger_pb2.Trigger(name="msg", on_message={"subject": "a.b"}))
    spec.triggers.append(trigger_pb2.Trigger(name="none"))
    bound = spec.triggers.add(name="bound", on_message={"subject": "go"})
    bound.bindings.add(input="nope", message_value="v")
    bound.bindings.add(input="x", message_value="v")
    bound.bindings.add(input="when", upstream_output="o")
    bound.bindings.add(message_value="v")
    assert _found(spec) == [
        ("spec.triggers[1].name", "duplicate trigger name 'up'"),
        ("spec.triggers[2].on_message.subject", "must match [A-Za-z0-9_-]+"),
        ("spec.triggers[3]", "a trigger needs on_execution or on_message"),
        ("spec.triggers[4].bindings[2].upstream_output", "only for execution triggers"),
        ("spec.triggers[4].bindings[3].input", "names an input"),
        ("spec.triggers[4].bindings[0].input", "the workflow has no input 'nope'"),
        ("spec.triggers[4].bindings[1].input", "input 'x' is fixed"),
    ]


def test_trigger_cycles_name_the_loop() -> None:
    def stored(*triggers: trigger_pb2.Trigger) -> bytes:
        return lp.LaunchPlanSpec(triggers=triggers).SerializeToString()

    c = lp.LaunchPlanSpec(triggers=[_on("other", "x", project="q"), _on("after-b", "b")])
    c_id = identifier_pb2.Identifier(project="p", domain="d", name="c", version="v1")
    assert has_execution_triggers(c)
    on_message = trigger_pb2.Trigger(name="m", on_message={"subject": "go"})
    assert not has_execution_triggers(lp.LaunchPlanSpec(triggers=[on_message]))
    chain = {("p", "d", "a"): stored(_on("after-c", "c")), ("p", "d", "b"): stored(_on("t", "a"))}
    found = trigger_cycles(c_id, c, chain)
    assert [(v.field, v.description) for v in found] == [
        (
            "spec.triggers[1].on_execution.launch_plan",
            "trigger cycle: p/d/c → p/d/a → p/d/b → p/d/c",
        )
    ]
    assert trigger_cycles(c_id, c, {("p", "d", "b"): stored(_on("t", "a"))}) == []
    itself = lp.LaunchPlanSpec(triggers=[_on("again", "c")])
    assert [v.description for v in trigger_cycles(c_id, itself, {})] == [
        "trigger cycle: p/d/c → p/d/c"
    ]
