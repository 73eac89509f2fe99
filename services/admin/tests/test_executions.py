"""CreateExecution and friends against a real admin (Postgres, NATS, file:// blob store)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from skyloom_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from skyloom_core.build import int_literal, literal_map, str_literal
from skyloom_idl.admin import common_pb2, execution_pb2, launch_plan_pb2
from skyloom_idl.core import identifier_pb2
from skyloom_idl.event import work_pb2

from .conftest import (
    BOOTSTRAP,
    DOMAIN,
    INT,
    PROJECT,
    RT,
    Running,
    fails,
    ident,
    register_task,
    register_workflow,
)

pytestmark = pytest.mark.integration


async def register_launch_plan(
    admin: Running,
    name: str = "lp",
    *,
    fixed: dict[str, int] | None = None,
    defaults: dict[str, int] | None = None,
    policy: launch_plan_pb2.ConcurrencyPolicy | None = None,
) -> identifier_pb2.Identifier:
    lp_id = ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, name)
    spec = launch_plan_pb2.LaunchPlanSpec(workflow_id=ident(RT.RESOURCE_TYPE_WORKFLOW, "wf"))
    for key, value in (fixed or {}).items():
        spec.fixed_inputs.literals[key].CopyFrom(int_literal(value))
    for key, value in (defaults or {}).items():
        spec.default_inputs.parameters[key].var.type.CopyFrom(INT)
        spec.default_inputs.parameters[key].default.CopyFrom(int_literal(value))
    if policy is not None:
        spec.concurrency_policy.CopyFrom(policy)
    await admin.stub.CreateLaunchPlan(launch_plan_pb2.CreateLaunchPlanRequest(id=lp_id, spec=spec))
    return lp_id


@pytest.fixture
async def lp(admin: Running, project: str) -> identifier_pb2.Identifier:
    await register_task(admin)
    await register_workflow(admin)
    return await register_launch_plan(admin)


def create_request(
    target: identifier_pb2.Identifier, name: str = "", **inputs: int
) -> execution_pb2.CreateExecutionRequest:
    spec = execution_pb2.ExecutionSpec()
    if target.resource_type == RT.RESOURCE_TYPE_TASK:
        spec.task.CopyFrom(target)
    else:
        spec.launch_plan.CopyFrom(target)
    return execution_pb2.CreateExecutionRequest(
        project=PROJECT,
        domain=DOMAIN,
        name=name,
        spec=spec,
        inputs=literal_map({k: int_literal(v) for k, v in inputs.items()}),
    )


async def work_items(admin: Running, expected: int, wait: float = 10.0) -> list[work_pb2.WorkItem]:
    """The work items in SKYLOOM_WORK (read by a throw-away consumer; not acknowledged)."""
    js = admin.app.ctx.js
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        info = await js.stream_info("SKYLOOM_WORK")
        if info.state.messages >= expected or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    items = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        msg = await js.get_msg("SKYLOOM_WORK", seq)
        item = work_pb2.WorkItem()
        item.ParseFromString(msg.data)
        items.append(item)
    return items


async def test_create_from_launch_plan_writes_row_inputs_and_work_item(
    admin: Running, lp: identifier_pb2.Identifier
) -> None:
    reply = await admin.stub.CreateExecution(create_request(lp, "run-1", x=3))
    assert reply.id.name == "run-1"
    got = (await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=reply.id))).execution
    assert got.spec.launch_plan == lp
    assert got.spec.metadata.mode == execution_pb2.ExecutionMetadata.MODE_MANUAL
    assert got.spec.metadata.principal == "bootstrap:root"
    assert got.closure.workflow_id.name == "wf"
    assert got.closure.inputs_uri.endswith(f"{PROJECT}/{DOMAIN}/run-1/inputs.pb")
    data = await admin.stub.GetExecutionData(execution_pb2.GetExecutionDataRequest(id=reply.id))
    assert data.inputs.inline.literals["x"].scalar.primitive.integer == 3
    (item,) = await work_items(admin, 1)
    assert item.work_id == f"start:{PROJECT}:{DOMAIN}:run-1"
    assert item.start.inputs_uri == got.closure.inputs_uri
    assert item.start.workflow_id.name == "wf"
    assert item.start.closure_uri.startswith("file://")
    assert item.start.data_prefix.endswith(f"{PROJECT}/{DOMAIN}/run-1")


async def nothing_written(admin: Running) -> None:
    assert await admin.count("executions") == 0
    assert await admin.count("outbox", "subject LIKE 'skyloom.work.%'") == 0
    info = await admin.app.ctx.js.stream_info("SKYLOOM_WORK")
    assert info.state.messages == 0


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../etc", "'..'"),
        ("a\x00b", "control"),
        ("a\x07b", "control"),
        ("x" * 64, "over the limit of 63"),
        ("Upper", "lowercase"),
    ],
)
async def test_bad_names_are_invalid_argument_and_write_nothing(
    admin: Running, lp: identifier_pb2.Identifier, name: str, reason: str
) -> None:
    error = await fails(admin.stub.CreateExecution(create_request(lp, name, x=1)))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("name",)
    assert reason in error.violations[0].description
    await nothing_written(admin)


async def test_bad_inputs_are_reported_with_every_path(admin: Running, project: str) -> None:
    await register_task(admin)
    await register_workflow(admin)
    lp = await register_launch_plan(admin, "fixed", fixed={"x": 5})
    request = create_request(lp, "bad", x=7)
    request.inputs.literals["nope"].CopyFrom(str_literal("?"))
    error = await fails(admin.stub.CreateExecution(request))
    assert isinstance(error, InvalidArgument)
    assert set(error.field_paths) == {"inputs.x", "inputs.nope"}
    assert "fixed by the launch plan" in error.violations[0].description
    await nothing_written(admin)


async def test_type_mismatch_and_missing_input(
    admin: Running, lp: identifier_pb2.Identifier
) -> None:
    request = create_request(lp, "typed")
    request.inputs.literals["x"].CopyFrom(str_literal("three"))
    error = await fails(admin.stub.CreateExecution(request))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("inputs.x",)
    error = await fails(admin.stub.CreateExecution(create_request(lp, "missing")))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("inputs.x",)
    assert "missing" in error.violations[0].description
    await nothing_written(admin)


async def test_inline_inputs_over_the_limit(admin: Running, lp: identifier_pb2.Identifier) -> None:
    request = create_request(lp, "big")
    request.inputs.literals["x"].CopyFrom(str_literal("y" * (1024 * 1024 + 10)))
    error = await fails(admin.stub.CreateExecution(request))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths[0] == "inputs"
    assert "over the limit of 1.0 MiB (1048576 bytes)" in error.violations[0].description
    await nothing_written(admin)


async def test_unparseable_request_and_unknown_targets(
    admin: Running, lp: identifier_pb2.Identifier
) -> None:
    async with grpc.aio.insecure_channel(admin.target) as channel:
        raw = channel.unary_unary("/skyloom.service.AdminService/CreateExecution")
        error = await fails(
            raw(b"\xff\xff\xff", metadata=[("authorization", f"Bearer {BOOTSTRAP}")])
        )
    assert isinstance(error, InvalidArgument)
    missing = ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "nope")
    assert isinstance(
        await fails(admin.stub.CreateExecution(create_request(missing, x=1))), NotFound
    )
    no_target = create_request(lp, "t", x=1)
    no_target.spec.ClearField("launch_plan")
    error = await fails(admin.stub.CreateExecution(no_target))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("spec.target",)
    unknown = execution_pb2.GetExecutionRequest(
        id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name="ghost")
    )
    assert isinstance(await fails(admin.stub.GetExecution(unknown)), NotFound)
    bad = execution_pb2.GetExecutionRequest(
        id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name="../x")
    )
    error = await fails(admin.stub.GetExecution(bad))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("id.name",)
    await nothing_written(admin)


async def test_duplicate_name_is_already_exists(
    admin: Running, lp: identifier_pb2.Identifier
) -> None:
    await admin.stub.CreateExecution(create_request(lp, "twice", x=1))
    error = await fails(admin.stub.CreateExecution(create_request(lp, "twice", x=2)))
    assert isinstance(error, AlreadyExists)
    assert await admin.count("executions") == 1
    data = await admin.stub.GetExecutionData(
        execution_pb2.GetExecutionDataRequest(id=_eid("twice"))
    )
    assert data.inputs.inline.literals["x"].scalar.primitive.integer == 1  # not overwritten


def _eid(name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)


async def test_generated_names_defaults_and_single_task(admin: Running, project: str) -> None:
    await register_task(admin)
    await register_workflow(admin)
    lp = await register_launch_plan(admin, "withdefault", defaults={"x": 41})
    first = await admin.stub.CreateExecution(create_request(lp))
    second = await admin.stub.CreateExecution(create_request(lp))
    assert first.id.name != second.id.name
    assert len(first.id.name) == 20
    data = await admin.stub.GetExecutionData(execution_pb2.GetExecutionDataRequest(id=first.id))
    assert data.inputs.inline.literals["x"].scalar.primitive.integer == 41
    task = ident(RT.RESOURCE_TYPE_TASK, "t.double")
    reply = await admin.stub.CreateExecution(create_request(task, "single", x=2))
    got = (await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=reply.id))).execution
    assert got.closure.workflow_id.resource_type == RT.RESOURCE_TYPE_WORKFLOW
    assert got.closure.workflow_id.name == "t.double"
    items = await work_items(admin, 3)
    single = next(i for i in items if i.execution_id.name == "single")
    closure_key = admin.app.ctx.data.key_of(single.start.closure_uri)  # type: ignore[union-attr]
    from skyloom_idl.core import compiler_pb2

    compiled = compiler_pb2.CompiledWorkflowClosure()
    compiled.ParseFromString(await admin.app.ctx.data.get_bytes(closure_key))  # type: ignore[union-attr]
    assert [n.id for n in compiled.primary.template.nodes] == ["n0"]
    assert compiled.tasks[0].template.id.name == "t.double"


async def test_terminate_publishes_an_abort_and_is_idempotent(
    admin: Running, lp: identifier_pb2.Identifier
) -> None:
    await admin.stub.CreateExecution(create_request(lp, "stopme", x=1))
    request = execution_pb2.TerminateExecutionRequest(id=_eid("stopme"), cause="enough")
    await admin.stub.TerminateExecution(request)
    await admin.stub.TerminateExecution(request)
    got = (
        await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=_eid("stopme")))
    ).execution
    assert got.closure.phase == 7  # ABORTING
    assert got.closure.abort_metadata.cause == "enough"
    assert got.closure.abort_metadata.principal == "bootstrap:root"
    items = await work_items(admin, 2)
    assert [i.WhichOneof("kind") for i in items] == ["start", "abort"]
    assert items[1].work_id == f"abort:{PROJECT}:{DOMAIN}:stopme"
    assert items[1].abort.cause == "enough"
    ghost = execution_pb2.TerminateExecutionRequest(id=_eid("ghost"))
    assert isinstance(await fails(admin.stub.TerminateExecution(ghost)), NotFound)


async def test_relaunch_recover_and_archive(admin: Running, lp: identifier_pb2.Identifier) -> None:
    await admin.stub.CreateExecution(create_request(lp, "orig", x=9))
    relaunched = await admin.stub.RelaunchExecution(
        execution_pb2.RelaunchExecutionRequest(id=_eid("orig"), name="again")
    )
    got = (
        await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=relaunched.id))
    ).execution
    assert got.spec.metadata.mode == execution_pb2.ExecutionMetadata.MODE_RELAUNCH
    assert got.spec.metadata.reference_execution.name == "orig"
    data = await admin.stub.GetExecutionData(
        execution_pb2.GetExecutionDataRequest(id=relaunched.id)
    )
    assert data.inputs.inline.literals["x"].scalar.primitive.integer == 9
    error = await fails(
        admin.stub.RecoverExecution(execution_pb2.RecoverExecutionRequest(id=_eid("orig")))
    )
    assert isinstance(error, FailedPrecondition)  # not finished yet
    await admin.stub.TerminateExecution(execution_pb2.TerminateExecutionRequest(id=_eid("orig")))
    from .test_events import workflow_event

    await admin.stub.CreateWorkflowEvent(workflow_event("orig", 8))
    recovered = await admin.stub.RecoverExecution(
        execution_pb2.RecoverExecutionRequest(id=_eid("orig"), name="healed")
    )
    got = (
        await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=recovered.id))
    ).execution
    assert got.spec.metadata.mode == execution_pb2.ExecutionMetadata.MODE_RECOVERED
    assert got.spec.metadata.reference_execution.name == "orig"
    archived = execution_pb2.ExecutionStateChangeDetails.STATE_ARCHIVED
    await admin.stub.UpdateExecution(
        execution_pb2.UpdateExecutionRequest(id=_eid("orig"), state=archived)
    )
    listed = await admin.stub.ListExecutions(
        execution_pb2.ListExecutionsRequest(project=PROJECT, domain=DOMAIN)
    )
    assert sorted(e.id.name for e in listed.executions) == ["again", "healed"]
    error = await fails(
        admin.stub.UpdateExecution(execution_pb2.UpdateExecutionRequest(id=_eid("orig")))
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("state",)


async def test_list_filters_sort_and_pages(admin: Running, lp: identifier_pb2.Identifier) -> None:
    for i in range(5):
        await admin.stub.CreateExecution(create_request(lp, f"run-{i}", x=i))
    await admin.stub.TerminateExecution(execution_pb2.TerminateExecutionRequest(id=_eid("run-2")))
    F = common_pb2.Filter
    page = execution_pb2.ListExecutionsRequest(
        project=PROJECT,
        domain=DOMAIN,
        sort_by=common_pb2.Sort(key="name", direction=common_pb2.Sort.DIRECTION_ASCENDING),
        page=common_pb2.PageRequest(limit=2),
    )
    names: list[str] = []
    while True:
        reply = await admin.stub.ListExecutions(page)
        names += [e.id.name for e in reply.executions]
        if not reply.next_token:
            break
        page.page.token = reply.next_token
    assert names == [f"run-{i}" for i in range(5)]
    aborting = await admin.stub.ListExecutions(
        execution_pb2.ListExecutionsRequest(
            project=PROJECT,
            domain=DOMAIN,
            filter_by=[F(field="phase", op=F.OPERATOR_EQ, values=["PHASE_ABORTING"])],
        )
    )
    assert [e.id.name for e in aborting.executions] == ["run-2"]
    error = await fails(
        admin.stub.ListExecutions(
            execution_pb2.ListExecutionsRequest(
                project=PROJECT,
                domain=DOMAIN,
                filter_by=[F(field="secret", op=F.OPERATOR_EQ, values=["x"])],
            )
        )
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("filter_by[0].field",)


@pytest.mark.parametrize("rpc", ["Relaunch", "Recover", "GetData", "Update", "Terminate", "Get"])
async def test_execution_rpcs_refuse_bad_and_unknown_ids(
    admin: Running, lp: identifier_pb2.Identifier, rpc: str
) -> None:
    def request(name: str) -> tuple[object, object]:
        e = _eid(name)
        archived = execution_pb2.ExecutionStateChangeDetails.STATE_ARCHIVED
        return {
            "Relaunch": (
                admin.stub.RelaunchExecution,
                execution_pb2.RelaunchExecutionRequest(id=e),
            ),
            "Recover": (admin.stub.RecoverExecution, execution_pb2.RecoverExecutionRequest(id=e)),
            "GetData": (admin.stub.GetExecutionData, execution_pb2.GetExecutionDataRequest(id=e)),
            "Update": (
                admin.stub.UpdateExecution,
                execution_pb2.UpdateExecutionRequest(id=e, state=archived),
            ),
            "Terminate": (
                admin.stub.TerminateExecution,
                execution_pb2.TerminateExecutionRequest(id=e),
            ),
            "Get": (admin.stub.GetExecution, execution_pb2.GetExecutionRequest(id=e)),
        }[rpc]

    call, message = request("ghost")
    assert isinstance(await fails(call(message)), NotFound)  # type: ignore[operator]
    for bad in ("../x", "a\x00", "x" * 64, "a\nb"):
        call, message = request(bad)
        error = await fails(call(message))  # type: ignore[operator]
        assert isinstance(error, InvalidArgument)
        assert error.field_paths == ("id.name",)
    await nothing_written(admin)
