"""A scheduler down for a while catches up by the launch plan's policy (clock injected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from skyloom_core.ids import scheduled_execution_name
from skyloom_idl.admin import schedule_pb2
from skyloom_scheduler import Scheduler

from .conftest import FakeAdmin, eventually, every_minute, launch_plan, running

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 1, tzinfo=UTC)
P = schedule_pb2.Schedule


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def settled(app: Scheduler, cursor: datetime) -> bool:
    snapshot = await app.pool.fetchval("SELECT max(last_fired_at) FROM fire_snapshots")
    pending = await app.pool.fetchval("SELECT count(*) FROM fires WHERE dispatched_at IS NULL")
    return bool(snapshot == cursor and pending == 0)


@pytest.mark.parametrize(
    ("policy", "fired_minutes", "catch_ups", "skipped"),
    [
        (P.CATCH_UP_POLICY_ALL, [1, 2, 3, 4, 5], 4, 0),
        (P.CATCH_UP_POLICY_LATEST, [1, 5], 1, 3),
        (P.CATCH_UP_POLICY_UNSPECIFIED, [1, 5], 1, 3),
        (P.CATCH_UP_POLICY_NONE, [1], 0, 4),
    ],
)
async def test_downtime_is_caught_up_by_policy(
    postgres_dsn: str,
    nats_url: str,
    policy: int,
    fired_minutes: list[int],
    catch_ups: int,
    skipped: int,
) -> None:
    clock = Clock(T0 + timedelta(seconds=61))
    lp = launch_plan("hourly-ish", schedule=every_minute(anchor=T0, policy=policy), activated_at=T0)
    admin = FakeAdmin(active=[lp])
    async with running(postgres_dsn, nats_url, admin, clock=clock) as first:
        await eventually(lambda: settled(first, T0 + timedelta(minutes=1)))
    assert admin.names() == {scheduled_execution_name(lp.id, int(T0.timestamp()) + 60)}
    # Down from T0+1:01 to T0+5:30: the times at minutes 2, 3, 4 and 5 were missed.
    clock.now = T0 + timedelta(minutes=5, seconds=30)
    async with running(postgres_dsn, nats_url, admin, clock=clock) as second:
        await eventually(lambda: settled(second, T0 + timedelta(minutes=5)))
    expected = {
        scheduled_execution_name(lp.id, int(T0.timestamp()) + 60 * m) for m in fired_minutes
    }
    assert admin.names() == expected
    assert len(admin.calls) == len(fired_minutes)
    label = {P.CATCH_UP_POLICY_ALL: "all", P.CATCH_UP_POLICY_NONE: "none"}.get(policy, "latest")
    registry = second.runtime.registry
    assert (
        registry.get_sample_value("skyloom_scheduler_catch_up_fires_total", {"policy": label}) or 0
    ) == catch_ups
    assert (
        registry.get_sample_value("skyloom_scheduler_skipped_fires_total", {"policy": label}) or 0
    ) == skipped
