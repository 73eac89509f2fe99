"""Dispatch: admin down → retried until created once; rejected → recorded, not retried;
metrics (fires, lateness) and a span per CreateExecution."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from skyloom_common.errors import Unavailable
from skyloom_common.runtime import ServiceRuntime
from skyloom_core.ids import scheduled_execution_name
from skyloom_idl.core import identifier_pb2, literals_pb2
from skyloom_scheduler import AdminRejected, CreateOutcome, open_scheduler

from .conftest import FakeAdmin, eventually, every_minute, launch_plan, settings_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FlakyAdmin(FakeAdmin):
    """The fake admin, down for its first ``outage`` calls; refuses launch plan ``bad``."""

    outage: int = 3

    async def create_execution(
        self,
        launch_plan_id: identifier_pb2.Identifier,
        name: str,
        inputs: literals_pb2.LiteralMap,
        scheduled_at: datetime,
        *,
        trigger: str = "",
    ) -> CreateOutcome:
        if self.outage > 0:
            self.outage -= 1
            self.calls.append(name)
            raise Unavailable("admin is restarting")
        if launch_plan_id.name == "bad":
            self.calls.append(name)
            raise AdminRejected("INVALID_ARGUMENT", "inputs.x: required input 'x' is missing")
        return await super().create_execution(
            launch_plan_id, name, inputs, scheduled_at, trigger=trigger
        )


async def test_admin_outage_is_retried_and_rejection_is_final(
    postgres_dsn: str, nats_url: str
) -> None:
    good = launch_plan("good", schedule=every_minute(anchor=T0), activated_at=T0)
    bad = launch_plan("bad", schedule=every_minute(anchor=T0), activated_at=T0)
    admin = FlakyAdmin(active=[good, bad])
    settings = settings_for(postgres_dsn, nats_url, dispatch_max_retry_seconds=0.5)
    spans = InMemorySpanExporter()
    runtime = ServiceRuntime.from_settings(
        "scheduler", settings, configure_logs=False, span_exporter=spans
    )
    now = T0 + timedelta(seconds=61)
    async with open_scheduler(settings, runtime=runtime, admin=admin, clock=lambda: now) as app:
        task = asyncio.create_task(app.service.run())
        try:

            async def settled() -> bool:
                pending = await app.pool.fetchval(
                    "SELECT count(*) FROM fires WHERE dispatched_at IS NULL"
                )
                total = await app.pool.fetchval("SELECT count(*) FROM fires")
                return bool(total == 2 and pending == 0)

            await eventually(settled, within=20)
            rows = await app.pool.fetch("SELECT name, outcome, error, attempts FROM fires")
        finally:
            app.service.request_stop()
            await task
    good_name = scheduled_execution_name(good.id, int(T0.timestamp()) + 60)
    bad_name = scheduled_execution_name(bad.id, int(T0.timestamp()) + 60)
    assert admin.names() == {good_name}
    outcomes = {r["name"]: (r["outcome"], r["error"]) for r in rows}
    assert outcomes[good_name][0] == "created"
    assert outcomes[bad_name] == (
        "rejected",
        "INVALID_ARGUMENT: inputs.x: required input 'x' is missing",
    )
    assert (
        admin.calls.count(bad_name) + admin.calls.count(good_name) == 3 + 2
    )  # 3 failed, then 1 each
    registry = runtime.registry
    sample = registry.get_sample_value
    assert sample("skyloom_scheduler_fires_total", {"kind": "schedule", "outcome": "created"}) == 1
    assert sample("skyloom_scheduler_fires_total", {"kind": "schedule", "outcome": "rejected"}) == 1
    assert sample("skyloom_scheduler_dispatch_errors_total") == 3
    assert sample("skyloom_scheduler_fire_lateness_seconds_count", {"kind": "schedule"}) == 1
    assert sample("skyloom_scheduler_fire_lateness_seconds_sum", {"kind": "schedule"}) == 1.0
    fired = [s for s in spans.get_finished_spans() if s.name == "scheduler.fire"]
    assert {s.attributes["skyloom.execution"] for s in fired if s.attributes} == {
        good_name,
        bad_name,
    }
    assert any(s.name == "scheduler.plan" for s in spans.get_finished_spans())
