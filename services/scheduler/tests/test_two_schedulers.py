"""Two scheduler replicas against one Postgres and NATS: every scheduled time fires once."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from skyloom_core.ids import scheduled_execution_name

from .conftest import FakeAdmin, eventually, every_minute, launch_plan, running

pytestmark = pytest.mark.integration


def next_whole_second(after: float = 1.0) -> datetime:
    return datetime.fromtimestamp(math.ceil(time.time() + after), UTC)


async def sleep_until(at: datetime) -> None:
    await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))


async def test_two_schedulers_on_a_2s_rate_for_20s_fire_exactly_10(
    postgres_dsn: str, nats_url: str
) -> None:
    admin = FakeAdmin()
    # A one-minute rate with the rate minute compressed to 2 s: fires at T0 + 2k.
    fast = {"rate_minute_seconds": 2.0}
    async with (
        running(postgres_dsn, nats_url, admin, **fast) as a,
        running(postgres_dsn, nats_url, admin, **fast) as b,
    ):
        t0 = next_whole_second()
        lp = launch_plan("every-2s", schedule=every_minute(anchor=t0), activated_at=t0)
        admin.active.append(lp)
        a.resync.request()
        b.resync.request()
        await sleep_until(t0 + timedelta(seconds=21))  # the 11th time would be T0 + 22
        await asyncio.sleep(0.5)  # let a fire recorded at T0 + 20 reach admin
    expected = {scheduled_execution_name(lp.id, int(t0.timestamp()) + 2 * k) for k in range(1, 11)}
    assert admin.names() == expected
    assert len(admin.calls) == 10, "only the leader fires: no duplicate CreateExecution calls"
    for created in admin.executions.values():
        kickoff = created.inputs.literals["kickoff"].scalar.primitive.datetime
        assert kickoff.ToDatetime(tzinfo=UTC) == created.scheduled_at
    leaders = [a.metrics.leader_changes._value.get(), b.metrics.leader_changes._value.get()]
    assert sorted(leaders) == [0, 1]


async def test_leader_failover_keeps_every_time_fired_once(
    postgres_dsn: str, nats_url: str
) -> None:
    admin = FakeAdmin()
    fast = {"rate_minute_seconds": 2.0}
    t0 = next_whole_second(4.0)
    lp = launch_plan("failover", schedule=every_minute(anchor=t0), activated_at=t0)
    admin.active.append(lp)
    async with contextlib.AsyncExitStack() as first:
        a = await first.enter_async_context(running(postgres_dsn, nats_url, admin, **fast))

        async def a_leads() -> bool:
            return a.lease.current() is not None

        await eventually(a_leads)
        async with running(postgres_dsn, nats_url, admin, **fast) as b:
            await sleep_until(t0 + timedelta(seconds=5))
            assert b.lease.current() is None
            await first.aclose()  # the leader stops (and releases its lease) at ~T0+5
            await sleep_until(t0 + timedelta(seconds=13))
            await asyncio.sleep(0.5)
            assert b.lease.current() is not None
    expected = {scheduled_execution_name(lp.id, int(t0.timestamp()) + 2 * k) for k in range(1, 7)}
    assert admin.names() == expected
    assert len(admin.calls) == len(set(admin.calls))
