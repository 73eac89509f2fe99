"""Launch plans: input, schedule and trigger validation, immutability, one active version,
trigger cycles refused at activation, the entity event in the outbox and on SKYLOOM_ENTITIES."""

from __future__ import annotations

import asyncio

import pytest

from skyloom_common.errors import AlreadyExists, InvalidArgument, NotFound
from skyloom_idl.admin import launch_plan_pb2 as lp
from skyloom_idl.admin import schedule_pb2, trigger_pb2
from skyloom_idl.core import execution_pb2, identifier_pb2, interface_pb2, literals_pb2
from skyloom_idl.event import entity_pb2

from .conftest import (
    DATETIME,
    INT,
    RT,
    Running,
    fails,
    ident,
    register_task,
    register_workflow,
    workflow_template,
)

pytestmark = pytest.mark.integration
State = lp.LaunchPlan.State


def integer(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value))
    )


def text(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value))
    )


def plan(version: str = "v1", **spec: object) -> lp.CreateLaunchPlanRequest:
    return lp.CreateLaunchPlanRequest(
        id=ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "lp", version),
        spec=lp.LaunchPlanSpec(workflow_id=ident(RT.RESOURCE_TYPE_WORKFLOW, "wf"), **spec),  # type: ignore[arg-type]
    )


@pytest.fixture
async def workflow(admin: Running, project: str) -> None:
    await register_task(admin)
    await register_workflow(admin, workflow_template(x=INT))


@pytest.fixture
async def scheduled_workflow(admin: Running, project: str) -> None:
    await register_task(admin)
    template = workflow_template(name="wf", x=INT)
    template.interface.inputs.variables["when"].type.CopyFrom(DATETIME)
    await register_workflow(admin, template)


async def test_create_get_and_identical_again(admin: Running, workflow: None) -> None:
    request = plan(fixed_inputs=literals_pb2.LiteralMap(literals={"x": integer(3)}))
    first = await admin.stub.CreateLaunchPlan(request)
    again = await admin.stub.CreateLaunchPlan(request)
    assert (first.created, again.created) == (True, False)
    got = (await admin.stub.GetLaunchPlan(lp.GetLaunchPlanRequest(id=request.id))).launch_plan
    assert got.closure.state == State.STATE_INACTIVE
    assert dict(got.closure.expected_inputs.parameters) == {}
    assert list(got.closure.expected_outputs.variables) == ["o0"]

    different = plan(fixed_inputs=literals_pb2.LiteralMap(literals={"x": integer(4)}))
    error = await fails(admin.stub.CreateLaunchPlan(different))
    assert isinstance(error, AlreadyExists)
    assert error.diff is not None
    assert 'spec.fixed_inputs.literals["x"]' in error.diff


async def test_inputs_are_checked_against_the_workflow(admin: Running, workflow: None) -> None:
    defaults = interface_pb2.ParameterMap(
        parameters={
            "x": interface_pb2.Parameter(var=interface_pb2.Variable(type=INT), default=text("a")),
            "y": interface_pb2.Parameter(var=interface_pb2.Variable(type=INT)),
        }
    )
    request = plan(
        default_inputs=defaults,
        fixed_inputs=literals_pb2.LiteralMap(literals={"x": integer(1), "z": integer(2)}),
    )
    error = await fails(admin.stub.CreateLaunchPlan(request))
    assert isinstance(error, InvalidArgument)
    assert set(error.field_paths) == {
        "spec.default_inputs.parameters.x.default",  # type mismatch
        "spec.default_inputs.parameters.y",  # not an input of the workflow
        "spec.fixed_inputs.literals.x",  # fixed and default: an override
        "spec.fixed_inputs.literals.z",  # not an input
    }
    assert await admin.count("launch_plans") == 0


@pytest.mark.parametrize(
    ("schedule", "path"),
    [
        (
            schedule_pb2.Schedule(cron=schedule_pb2.CronSchedule(expression="61 * * * *")),
            "spec.schedule.cron.expression",
        ),
        (
            schedule_pb2.Schedule(cron=schedule_pb2.CronSchedule(expression="* * * *")),
            "spec.schedule.cron.expression",
        ),
        (
            schedule_pb2.Schedule(cron=schedule_pb2.CronSchedule(expression="@often")),
            "spec.schedule.cron.expression",
        ),
        (
            schedule_pb2.Schedule(
                cron=schedule_pb2.CronSchedule(expression="0 * * * *", time_zone="Mars/Olympus")
            ),
            "spec.schedule.cron.time_zone",
        ),
        (
            schedule_pb2.Schedule(
                cron=schedule_pb2.CronSchedule(expression="0 * * * *", time_zone="../../etc/passwd")
            ),
            "spec.schedule.cron.time_zone",
        ),
        (
            schedule_pb2.Schedule(
                rate=schedule_pb2.FixedRate(value=0, unit=schedule_pb2.FixedRate.UNIT_MINUTE)
            ),
            "spec.schedule.rate.value",
        ),
        (schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=5)), "spec.schedule.rate.unit"),
        (
            schedule_pb2.Schedule(
                cron=schedule_pb2.CronSchedule(expression="@daily"), kickoff_time_input_arg="x"
            ),
            "spec.schedule.kickoff_time_input_arg",
        ),
        (
            schedule_pb2.Schedule(
                cron=schedule_pb2.CronSchedule(expression="@daily"), kickoff_time_input_arg="nope"
            ),
            "spec.schedule.kickoff_time_input_arg",
        ),
    ],
)
async def test_invalid_schedules(
    admin: Running, scheduled_workflow: None, schedule: schedule_pb2.Schedule, path: str
) -> None:
    fixed = literals_pb2.LiteralMap(literals={"x": integer(1)})
    error = await fails(admin.stub.CreateLaunchPlan(plan(schedule=schedule, fixed_inputs=fixed)))
    assert isinstance(error, InvalidArgument)
    assert path in error.field_paths
    assert await admin.count("launch_plans") == 0


async def test_kickoff_input_must_not_be_fixed_and_required_inputs_bound(
    admin: Running, scheduled_workflow: None
) -> None:
    schedule = schedule_pb2.Schedule(
        cron=schedule_pb2.CronSchedule(expression="@daily"), kickoff_time_input_arg="when"
    )
    fixed_when = literals_pb2.LiteralMap(literals={"x": integer(1)})
    fixed_when.literals["when"].scalar.primitive.datetime.seconds = 1
    error = await fails(
        admin.stub.CreateLaunchPlan(plan(schedule=schedule, fixed_inputs=fixed_when))
    )
    assert isinstance(error, InvalidArgument)
    assert "spec.schedule.kickoff_time_input_arg" in error.field_paths
    unbound = await fails(admin.stub.CreateLaunchPlan(plan(schedule=schedule)))
    assert isinstance(unbound, InvalidArgument)
    assert unbound.field_paths == ("spec.schedule",)
    ok = plan(schedule=schedule, fixed_inputs=literals_pb2.LiteralMap(literals={"x": integer(1)}))
    assert (await admin.stub.CreateLaunchPlan(ok)).created


async def test_unknown_workflow_is_not_found(admin: Running, project: str) -> None:
    error = await fails(admin.stub.CreateLaunchPlan(plan()))
    assert isinstance(error, NotFound)
    assert await admin.count("launch_plans") == 0


async def test_one_active_version_and_entity_events(admin: Running, workflow: None) -> None:
    fixed = literals_pb2.LiteralMap(literals={"x": integer(1)})
    schedule = schedule_pb2.Schedule(cron=schedule_pb2.CronSchedule(expression="*/5 * * * *"))
    for version in ("v1", "v2"):
        await admin.stub.CreateLaunchPlan(plan(version, fixed_inputs=fixed, schedule=schedule))
    v1, v2 = (ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "lp", v) for v in ("v1", "v2"))
    sub = await admin.app.ctx.js.subscribe("skyloom.entities.launchplan.proj.development")

    await admin.stub.UpdateLaunchPlan(lp.UpdateLaunchPlanRequest(id=v1, state=State.STATE_ACTIVE))
    await admin.stub.UpdateLaunchPlan(lp.UpdateLaunchPlanRequest(id=v1, state=State.STATE_ACTIVE))
    await admin.stub.UpdateLaunchPlan(lp.UpdateLaunchPlanRequest(id=v2, state=State.STATE_ACTIVE))
    assert await admin.count("launch_plans", "state = 2") == 1
    named = identifier_pb2.NamedEntityIdentifier(project="proj", domain="development", name="lp")
    active = await admin.stub.GetActiveLaunchPlan(lp.GetActiveLaunchPlanRequest(id=named))
    assert active.launch_plan.id.version == "v2"
    await admin.stub.UpdateLaunchPlan(lp.UpdateLaunchPlanRequest(id=v2, state=State.STATE_INACTIVE))
    missing = await fails(admin.stub.GetActiveLaunchPlan(lp.GetActiveLaunchPlanRequest(id=named)))
    assert isinstance(missing, NotFound)

    rows = await admin.db.fetch("SELECT msg_id, subject FROM outbox ORDER BY id")
    assert [r["msg_id"] for r in rows] == [
        "lp:proj:development:lp:v1:1",
        "lp:proj:development:lp:v2:2",
        "lp:proj:development:lp:v2:3",
    ]
    changes = []
    for _ in range(3):
        msg = await sub.next_msg(timeout=10)
        event = entity_pb2.EntityEvent.FromString(msg.data)
        await msg.ack()
        changes.append(
            (event.revision, event.launch_plan.change, event.launch_plan.launch_plan.id.version)
        )
    Change = entity_pb2.LaunchPlanChanged
    assert changes == [
        (1, Change.CHANGE_ACTIVATED, "v1"),
        (2, Change.CHANGE_ACTIVATED, "v2"),
        (3, Change.CHANGE_DEACTIVATED, "v2"),
    ]
    for _ in range(100):
        if await admin.count("outbox", "published_at IS NULL") == 0:
            break
        await asyncio.sleep(0.05)
    assert await admin.count("outbox", "published_at IS NULL") == 0


async def test_concurrent_activations_leave_exactly_one_active(
    admin: Running, workflow: None
) -> None:
    fixed = literals_pb2.LiteralMap(literals={"x": integer(1)})
    versions = [f"v{i}" for i in range(6)]
    for version in versions:
        await admin.stub.CreateLaunchPlan(plan(version, fixed_inputs=fixed))
    await asyncio.gather(
        *(
            admin.stub.UpdateLaunchPlan(
                lp.UpdateLaunchPlanRequest(
                    id=ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "lp", v), state=State.STATE_ACTIVE
                )
            )
            for v in versions
        )
    )
    assert await admin.count("launch_plans", "state = 2") == 1
    assert await admin.count("outbox") == len(versions)


async def test_update_unknown_and_bad_state(admin: Running, workflow: None) -> None:
    unknown = ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "nope")
    error = await fails(
        admin.stub.UpdateLaunchPlan(
            lp.UpdateLaunchPlanRequest(id=unknown, state=State.STATE_ACTIVE)
        )
    )
    assert isinstance(error, NotFound)
    bad = await fails(admin.stub.UpdateLaunchPlan(lp.UpdateLaunchPlanRequest(id=unknown)))
    assert isinstance(bad, InvalidArgument)
    assert bad.field_paths == ("state",)
    assert await admin.count("outbox") == 0


async def test_list_launch_plans_by_state_and_schedule(admin: Running, workflow: None) -> None:
    from skyloom_idl.admin import common_pb2

    fixed = literals_pb2.LiteralMap(literals={"x": integer(1)})
    schedule = schedule_pb2.Schedule(
        rate=schedule_pb2.FixedRate(value=1, unit=schedule_pb2.FixedRate.UNIT_HOUR)
    )
    await admin.stub.CreateLaunchPlan(plan("v1", fixed_inputs=fixed, schedule=schedule))
    await admin.stub.CreateLaunchPlan(plan("v2", fixed_inputs=fixed))
    v1 = ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "lp", "v1")
    await admin.stub.UpdateLaunchPlan(lp.UpdateLaunchPlanRequest(id=v1, state=State.STATE_ACTIVE))
    named = identifier_pb2.NamedEntityIdentifier(project="proj", domain="development")
    Op = common_pb2.Filter.Operator

    async def versions(*filters: common_pb2.Filter) -> list[str]:
        reply = await admin.stub.ListLaunchPlans(
            lp.ListLaunchPlansRequest(id=named, filter_by=list(filters))
        )
        return sorted(p.id.version for p in reply.launch_plans)

    active = common_pb2.Filter(field="state", op=Op.OPERATOR_EQ, values=["STATE_ACTIVE"])
    unscheduled = common_pb2.Filter(field="has_schedule", op=Op.OPERATOR_EQ, values=["false"])
    by_workflow = common_pb2.Filter(field="workflow.name", op=Op.OPERATOR_EQ, values=["wf"])
    assert await versions(active) == ["v1"]
    assert await versions(unscheduled) == ["v2"]
    assert await versions(by_workflow) == ["v1", "v2"]
    everything = await admin.stub.ListActiveLaunchPlans(lp.ListActiveLaunchPlansRequest())
    assert [p.id.version for p in everything.launch_plans] == ["v1"]
    in_project = await admin.stub.ListActiveLaunchPlans(
        lp.ListActiveLaunchPlansRequest(project="proj")
    )
    assert [p.id.version for p in in_project.launch_plans] == ["v1"]
    elsewhere = await admin.stub.ListActiveLaunchPlans(
        lp.ListActiveLaunchPlansRequest(project="proj", domain="staging")
    )
    assert not elsewhere.launch_plans
    no_project = await fails(
        admin.stub.ListActiveLaunchPlans(lp.ListActiveLaunchPlansRequest(domain="staging"))
    )
    assert isinstance(no_project, InvalidArgument)
    assert no_project.field_paths == ("project",)
    ids = await admin.stub.ListLaunchPlanIds(
        lp.ListLaunchPlanIdsRequest(project="proj", domain="development")
    )
    assert [i.name for i in ids.ids] == ["lp"]
    bad = common_pb2.Filter(field="has_schedule", op=Op.OPERATOR_EQ, values=["maybe"])
    error = await fails(
        admin.stub.ListLaunchPlans(lp.ListLaunchPlansRequest(id=named, filter_by=[bad]))
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("filter_by[0].values[0]",)


def after(upstream: str) -> trigger_pb2.Trigger:
    """Fires when an execution of launch plan ``upstream`` (same project and domain) succeeds."""
    return trigger_pb2.Trigger(
        name=f"after-{upstream}",
        on_execution=trigger_pb2.ExecutionTrigger(
            launch_plan=identifier_pb2.NamedEntityIdentifier(
                project="proj", domain="development", name=upstream
            ),
            phases=[execution_pb2.WorkflowExecution.Phase.PHASE_SUCCEEDED],
        ),
    )


async def triggered(admin: Running, name: str, *triggers: trigger_pb2.Trigger) -> None:
    fixed = literals_pb2.LiteralMap(literals={"x": integer(1)})
    request = plan(fixed_inputs=fixed, triggers=triggers)
    request.id.name = name
    assert (await admin.stub.CreateLaunchPlan(request)).created


async def activate(admin: Running, name: str) -> lp.UpdateLaunchPlanResponse:
    id = ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, name)
    response: lp.UpdateLaunchPlanResponse = await admin.stub.UpdateLaunchPlan(
        lp.UpdateLaunchPlanRequest(id=id, state=State.STATE_ACTIVE)
    )
    return response


async def test_invalid_trigger_is_refused_with_its_path(admin: Running, workflow: None) -> None:
    bad = after("a")
    bad.on_execution.ClearField("phases")
    bad.bindings.add(input="y", constant=integer(2))
    fixed = literals_pb2.LiteralMap(literals={"x": integer(1)})
    error = await fails(admin.stub.CreateLaunchPlan(plan(fixed_inputs=fixed, triggers=[bad])))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == (
        "spec.triggers[0].on_execution.phases",
        "spec.triggers[0].bindings[0].input",
    )
    assert await admin.count("launch_plans") == 0


async def test_activation_closing_a_trigger_cycle_is_refused(
    admin: Running, workflow: None
) -> None:
    # a runs after c, b after a: the chain c → a → b is fine while c is inactive.
    await triggered(admin, "a", after("c"))
    await triggered(admin, "b", after("a"))
    await triggered(admin, "c", after("b"))
    for name in ("a", "b"):
        assert (await activate(admin, name)).launch_plan.closure.state == State.STATE_ACTIVE
    outbox = await admin.count("outbox")

    error = await fails(activate(admin, "c"))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("spec.triggers[0].on_execution.launch_plan",)
    loop = "proj/development/c → proj/development/a → proj/development/b → proj/development/c"
    assert f"trigger cycle: {loop}" in str(error)
    assert await admin.count("launch_plans", "state = 2") == 2
    assert await admin.count("launch_plans", "name = 'c' AND state = 2") == 0
    assert await admin.count("launch_plan_revisions", "name = 'c'") == 0
    assert await admin.count("outbox") == outbox

    # Once b is inactive the chain is open again and c activates.
    await admin.stub.UpdateLaunchPlan(
        lp.UpdateLaunchPlanRequest(
            id=ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "b"), state=State.STATE_INACTIVE
        )
    )
    assert (await activate(admin, "c")).launch_plan.closure.state == State.STATE_ACTIVE


async def test_concurrent_activations_cannot_close_a_cycle_together(
    admin: Running, workflow: None
) -> None:
    # Each alone is fine; both active would be a loop. Different names take different
    # per-name locks, so only the trigger-graph lock keeps both from passing the check.
    await triggered(admin, "ping", after("pong"))
    await triggered(admin, "pong", after("ping"))
    results = await asyncio.gather(
        activate(admin, "ping"), activate(admin, "pong"), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1
    assert await admin.count("launch_plans", "state = 2") == 1
    assert await admin.count("outbox") == 1
