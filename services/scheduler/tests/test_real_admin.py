"""The scheduler against the REAL admin (gRPC server, its Postgres schema, its outbox relay).

Admin is started with its own test harness (``services/admin/tests/conftest.py``, loaded by
path: the two test packages are not importable from each other). The launch plan is registered
and activated through admin's API; the schedulers learn it from the entity event admin's outbox
relay publishes, fire through ``GrpcAdminClient`` with admin's bearer-token auth on, and admin's
unique execution names make the second replica's duplicate ``CreateExecution`` ALREADY_EXISTS.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from pydantic import SecretStr

from skyloom_common.runtime import ServiceRuntime
from skyloom_core.blob import store_for
from skyloom_core.ids import scheduled_execution_name
from skyloom_idl.admin import execution_pb2, launch_plan_pb2, project_pb2, schedule_pb2
from skyloom_idl.core import literals_pb2
from skyloom_scheduler import AdminRejected, CreateOutcome, GrpcAdminClient, open_scheduler
from skyloom_scheduler.planning import kickoff_inputs
from skyloom_scheduler.settings import AdminClientSettings

from .conftest import settings_for

pytestmark = pytest.mark.integration

_HARNESS = Path(__file__).parents[2] / "admin" / "tests" / "conftest.py"


def _admin_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("skyloom_admin_test_harness", _HARNESS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


H = _admin_harness()


@pytest.fixture
async def admin(postgres_dsn: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    async with store_for(f"file://{tmp_path}/data") as data:
        async for running in H.start(H.admin_settings(postgres_dsn, nats_url), data_store=data):
            yield running


async def scheduled_plan(admin: Any) -> launch_plan_pb2.LaunchPlan:
    await admin.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=project_pb2.Project(id=H.PROJECT))
    )
    await H.register_task(admin)
    template = H.workflow_template(x=H.INT)
    template.interface.inputs.variables["when"].type.CopyFrom(H.DATETIME)
    await H.register_workflow(admin, template)
    lp_id = H.ident(H.RT.RESOURCE_TYPE_LAUNCH_PLAN, "every-2s")
    schedule = schedule_pb2.Schedule(
        rate=schedule_pb2.FixedRate(value=1, unit=schedule_pb2.FixedRate.UNIT_MINUTE),
        kickoff_time_input_arg="when",
        catch_up_policy=schedule_pb2.Schedule.CATCH_UP_POLICY_ALL,
    )
    fixed = literals_pb2.LiteralMap(
        literals={
            "x": literals_pb2.Literal(
                scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=3))
            )
        }
    )
    await admin.stub.CreateLaunchPlan(
        launch_plan_pb2.CreateLaunchPlanRequest(
            id=lp_id,
            spec=launch_plan_pb2.LaunchPlanSpec(
                workflow_id=H.ident(H.RT.RESOURCE_TYPE_WORKFLOW, "wf"),
                schedule=schedule,
                fixed_inputs=fixed,
            ),
        )
    )
    updated = await admin.stub.UpdateLaunchPlan(
        launch_plan_pb2.UpdateLaunchPlanRequest(
            id=lp_id, state=launch_plan_pb2.LaunchPlan.STATE_ACTIVE
        )
    )
    plan: launch_plan_pb2.LaunchPlan = updated.launch_plan
    return plan


async def test_two_schedulers_fire_through_the_real_admin(
    admin: Any, postgres_dsn: str, nats_url: str
) -> None:
    settings = settings_for(postgres_dsn, nats_url, rate_minute_seconds=2.0)
    settings = settings.model_copy(
        update={"admin": AdminClientSettings(target=admin.target, token=SecretStr(H.BOOTSTRAP))}
    )
    runtimes = [
        ServiceRuntime.from_settings("scheduler", settings, configure_logs=False) for _ in "ab"
    ]
    async with (
        open_scheduler(settings, runtime=runtimes[0]) as a,
        open_scheduler(settings, runtime=runtimes[1]) as b,
    ):
        tasks = [asyncio.create_task(s.service.run()) for s in (a, b)]
        try:
            plan = await scheduled_plan(admin)  # learnt from admin's entity event
            activated = plan.closure.updated_at.ToDatetime(tzinfo=UTC)
            await asyncio.sleep(7.5)
        finally:
            for s in (a, b):
                s.service.request_stop()
            await asyncio.gather(*tasks)
        first = activated.replace(microsecond=0) + timedelta(seconds=2)
        last = datetime.now(UTC)
        rows = await admin.db.fetch(
            "SELECT name, mode FROM executions WHERE launch_plan_name = 'every-2s' ORDER BY name"
        )
    names = {r["name"] for r in rows}
    base = int(first.timestamp())
    expected = {
        scheduled_execution_name(plan.id, base + 2 * k)
        for k in range(10)
        if base + 2 * k <= last.timestamp()
    }
    assert len(names) >= 2
    assert names <= expected
    # Every time up to the newest fired one is present: none was skipped or doubled.
    newest = max(k for k in range(10) if scheduled_execution_name(plan.id, base + 2 * k) in names)
    assert names == {scheduled_execution_name(plan.id, base + 2 * k) for k in range(newest + 1)}
    assert {r["mode"] for r in rows} == {execution_pb2.ExecutionMetadata.MODE_SCHEDULED}


async def test_grpc_client_maps_a_duplicate_name_to_already_exists(admin: Any) -> None:
    plan = await scheduled_plan(admin)
    async with grpc.aio.insecure_channel(admin.target) as channel:
        client = GrpcAdminClient(channel, token=H.BOOTSTRAP)
        active = await client.list_active_launch_plans()
        assert [lp.id.name for lp in active] == ["every-2s"]
        at = datetime(2026, 11, 22, 6, tzinfo=UTC)
        name = scheduled_execution_name(plan.id, int(at.timestamp()))
        with pytest.raises(AdminRejected) as rejected:  # the kickoff input is required
            await client.create_execution(plan.id, name, literals_pb2.LiteralMap(), at)
        assert rejected.value.code == "INVALID_ARGUMENT"
        inputs = kickoff_inputs("when", at)
        assert await client.create_execution(plan.id, name, inputs, at) == CreateOutcome.CREATED
        again = await client.create_execution(plan.id, name, inputs, at)
        assert again == CreateOutcome.ALREADY_EXISTS
