"""Slow suite (F9): two schedulers on a per-minute cron for three minutes fire exactly three."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from skyloom_core.ids import scheduled_execution_name
from skyloom_idl.admin import schedule_pb2

from .conftest import FakeAdmin, launch_plan, running

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(330)
async def test_two_schedulers_on_a_per_minute_cron_fire_once_per_minute(
    postgres_dsn: str, nats_url: str
) -> None:
    admin = FakeAdmin()
    async with (
        running(postgres_dsn, nats_url, admin, lease_ttl_seconds=6.0, lease_renew_seconds=2.0) as a,
        running(postgres_dsn, nats_url, admin, lease_ttl_seconds=6.0, lease_renew_seconds=2.0) as b,
    ):
        activated = datetime.now(UTC)
        first = activated.replace(second=0, microsecond=0) + timedelta(minutes=1)
        schedule = schedule_pb2.Schedule(
            cron=schedule_pb2.CronSchedule(expression="* * * * *", time_zone="Europe/Berlin"),
            kickoff_time_input_arg="kickoff",
        )
        lp = launch_plan("per-minute", schedule=schedule, activated_at=activated)
        admin.active.append(lp)
        a.resync.request()
        b.resync.request()
        end = first + timedelta(minutes=2, seconds=30)  # three boundaries, not a fourth
        await asyncio.sleep((end - datetime.now(UTC)).total_seconds())
    minutes = [first + timedelta(minutes=k) for k in range(3)]
    assert admin.names() == {scheduled_execution_name(lp.id, int(m.timestamp())) for m in minutes}
    assert len(admin.calls) == 3
