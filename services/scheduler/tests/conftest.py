"""Scheduler test harness: real Postgres and NATS, in-process scheduler replicas, a FAKE admin.

:class:`FakeAdmin` stands in for admin at the scheduler's one seam (the ``AdminClient``
Protocol). It is a fake, not admin: it keeps executions in memory and enforces what the
scheduler's exactly-once argument relies on, exactly as admin does: an execution name is unique
per (project, domain) and a repeated name answers ALREADY_EXISTS, a name must be a valid
execution name (DNS label, at most 63 characters). It optionally plays the engine, publishing a
SUCCEEDED workflow event with outputs to SKYLOOM_EVENTS for every execution it creates, so
trigger chains run without propeller.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from skyloom_common.config import AuthSettings, MetricsSettings, NatsSettings, PostgresSettings
from skyloom_common.jetstream import publish
from skyloom_common.runtime import ServiceRuntime
from skyloom_core.names import validate_execution_name
from skyloom_idl.admin import launch_plan_pb2, schedule_pb2
from skyloom_idl.core import execution_pb2, identifier_pb2, literals_pb2
from skyloom_idl.event import event_pb2
from skyloom_scheduler import CreateOutcome, Scheduler, SchedulerSettings, open_scheduler
from skyloom_scheduler.settings import SchedulerSection

PROJECT, DOMAIN = "proj", "development"


@dataclass(frozen=True)
class Created:
    launch_plan: identifier_pb2.Identifier
    name: str
    inputs: literals_pb2.LiteralMap
    scheduled_at: datetime
    trigger: str


Engine = Callable[[Created], Awaitable[None]]


@dataclass
class FakeAdmin:
    """A FAKE admin at the AdminClient seam (see the module docstring)."""

    active: list[launch_plan_pb2.LaunchPlan] = field(default_factory=list)
    executions: dict[tuple[str, str, str], Created] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    engine: Engine | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def list_active_launch_plans(self) -> list[launch_plan_pb2.LaunchPlan]:
        return list(self.active)

    async def create_execution(
        self,
        launch_plan_id: identifier_pb2.Identifier,
        name: str,
        inputs: literals_pb2.LiteralMap,
        scheduled_at: datetime,
        *,
        trigger: str = "",
    ) -> CreateOutcome:
        self.calls.append(name)
        problems = validate_execution_name(name)
        if problems:
            raise ValueError(f"admin would refuse {name!r}: {problems}")
        key = (launch_plan_id.project, launch_plan_id.domain, name)
        if key in self.executions:
            return CreateOutcome.ALREADY_EXISTS
        created = Created(launch_plan_id, name, inputs, scheduled_at, trigger)
        self.executions[key] = created
        self.changed.set()
        if self.engine is not None:
            await self.engine(created)
        return CreateOutcome.CREATED

    def names(self) -> set[str]:
        return {name for _, _, name in self.executions}

    async def wait_for(self, count: int, within: float) -> None:
        async def enough() -> None:
            while len(self.executions) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(enough(), within)


def settings_for(dsn: str, nats_url: str, **scheduler: object) -> SchedulerSettings:
    defaults: dict[str, object] = {
        "lease_ttl_seconds": 3.0,
        "lease_renew_seconds": 1.0,
        "lease_margin_seconds": 1.0,
        "tick_seconds": 0.5,
        "dispatch_poll_seconds": 0.2,
        "dispatch_retry_seconds": 0.2,
        "resync_retry_seconds": 0.2,
        "catch_up_grace_seconds": 5.0,
    }
    return SchedulerSettings(
        auth=AuthSettings(mode="disabled"),
        metrics=MetricsSettings(enabled=False),
        postgres=PostgresSettings(dsn=SecretStr(dsn), pool_max_size=10),
        nats=NatsSettings(url=nats_url),
        scheduler=SchedulerSection.model_validate({**defaults, **scheduler}),
    )


@contextlib.asynccontextmanager
async def running(
    dsn: str,
    nats_url: str,
    admin: FakeAdmin,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    **scheduler: object,
) -> AsyncIterator[Scheduler]:
    """One in-process scheduler replica, running until the block exits (then stopped)."""
    settings = settings_for(dsn, nats_url, **scheduler)
    runtime = ServiceRuntime.from_settings(
        "scheduler", settings, configure_logs=False, span_exporter=InMemorySpanExporter()
    )
    async with open_scheduler(settings, runtime=runtime, admin=admin, clock=clock) as app:
        task = asyncio.create_task(app.service.run())
        try:
            yield app
        finally:
            app.service.request_stop()
            await task


def timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def launch_plan(
    name: str,
    *,
    schedule: schedule_pb2.Schedule | None = None,
    activated_at: datetime,
    version: str = "v1",
) -> launch_plan_pb2.LaunchPlan:
    lp = launch_plan_pb2.LaunchPlan(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.ResourceType.RESOURCE_TYPE_LAUNCH_PLAN,
            project=PROJECT,
            domain=DOMAIN,
            name=name,
            version=version,
        )
    )
    if schedule is not None:
        lp.spec.schedule.CopyFrom(schedule)
    lp.closure.state = launch_plan_pb2.LaunchPlan.STATE_ACTIVE
    lp.closure.updated_at.CopyFrom(timestamp(activated_at))
    return lp


def every_minute(
    *, anchor: datetime, policy: int = schedule_pb2.Schedule.CATCH_UP_POLICY_ALL
) -> schedule_pb2.Schedule:
    return schedule_pb2.Schedule(
        rate=schedule_pb2.FixedRate(
            value=1, unit=schedule_pb2.FixedRate.UNIT_MINUTE, anchor=timestamp(anchor)
        ),
        kickoff_time_input_arg="kickoff",
        catch_up_policy=policy,  # type: ignore[arg-type]
    )


def succeeded_engine(
    js: JetStreamContext, outputs: Callable[[Created], literals_pb2.LiteralMap]
) -> Engine:
    """Plays propeller: every created execution succeeds at once with ``outputs(created)``."""

    async def engine(created: Created) -> None:
        lp = created.launch_plan
        event = event_pb2.WorkflowExecutionEvent(
            event_id=f"wf:{lp.project}:{lp.domain}:{created.name}:SUCCEEDED",
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=lp.project, domain=lp.domain, name=created.name
            ),
            producer_id="fake-engine",
            phase=execution_pb2.WorkflowExecution.PHASE_SUCCEEDED,
            output_data=outputs(created),
            launch_plan_id=lp,
        )
        await publish(
            js,
            f"skyloom.events.workflow.{lp.project}.{lp.domain}",
            event.SerializeToString(),
            msg_id=event.event_id,
        )

    return engine


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll ``check`` until it is true (the test fails after ``within`` seconds)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
