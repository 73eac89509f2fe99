"""Catch-up planning per policy, with an explicit clock (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from skyloom_core.schedules import CronRule, RateRule
from skyloom_idl.admin import schedule_pb2
from skyloom_scheduler.planning import CatchUp, PlannedFire, kickoff_inputs, plan_fires

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
EVERY_MINUTE = RateRule(timedelta(minutes=1), T0)
GRACE = timedelta(seconds=5)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def plan(policy: CatchUp, resume: float, now: float, cap: int = 100):  # type: ignore[no-untyped-def]
    return plan_fires(
        EVERY_MINUTE, resume_after=at(resume), now=at(now), policy=policy, cap=cap, grace=GRACE
    )


@pytest.mark.parametrize("policy", list(CatchUp))
def test_on_time_fire_fires_under_every_policy(policy: CatchUp) -> None:
    result = plan(policy, resume=4, now=5 + 1 / 60)  # one second late
    assert result.fires == (PlannedFire(at(5), catch_up=False),)
    assert (result.skipped, result.cursor, result.next_at) == (0, at(5), at(6))


@pytest.mark.parametrize("policy", list(CatchUp))
def test_nothing_due(policy: CatchUp) -> None:
    result = plan(policy, resume=5, now=5.5)
    assert (result.fires, result.skipped, result.cursor, result.next_at) == ((), 0, None, at(6))


def test_all_fires_every_missed_time_oldest_first() -> None:
    result = plan(CatchUp.ALL, resume=2, now=7.5)  # down from 2 to 7.5: 3..7 missed
    assert [f.at for f in result.fires] == [at(3), at(4), at(5), at(6), at(7)]
    assert all(f.catch_up for f in result.fires)
    assert (result.skipped, result.cursor) == (0, at(7))


def test_all_is_capped_to_the_newest() -> None:
    result = plan(CatchUp.ALL, resume=0, now=10, cap=3)
    assert [f.at for f in result.fires] == [at(8), at(9), at(10)]
    assert [f.catch_up for f in result.fires] == [True, True, False]  # 10 is on time
    assert (result.skipped, result.cursor) == (7, at(10))


def test_latest_fires_only_the_newest_missed_time() -> None:
    result = plan(CatchUp.LATEST, resume=2, now=7.5)
    assert result.fires == (PlannedFire(at(7), catch_up=True),)
    assert (result.skipped, result.cursor) == (4, at(7))


def test_none_fires_nothing_missed_and_moves_on() -> None:
    result = plan(CatchUp.NONE, resume=2, now=7.5)
    assert (result.fires, result.skipped, result.cursor, result.next_at) == ((), 5, at(7), at(8))


def test_policy_from_proto_defaults_to_latest() -> None:
    p = schedule_pb2.Schedule
    assert CatchUp.from_proto(p.CATCH_UP_POLICY_UNSPECIFIED) is CatchUp.LATEST
    assert CatchUp.from_proto(p.CATCH_UP_POLICY_ALL) is CatchUp.ALL
    assert CatchUp.from_proto(p.CATCH_UP_POLICY_NONE) is CatchUp.NONE


def test_cron_catch_up_across_spring_forward() -> None:
    rule = CronRule("30 2 * * *", ZoneInfo("Europe/Berlin"))
    down = datetime(2026, 3, 27, 12, tzinfo=UTC)
    back = datetime(2026, 3, 30, 12, tzinfo=UTC)
    result = plan_fires(rule, resume_after=down, now=back, policy=CatchUp.ALL, cap=10, grace=GRACE)
    assert [f.at for f in result.fires] == [
        datetime(2026, 3, 28, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 CEST: 02:30 did not exist
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]


def test_kickoff_inputs_bind_the_scheduled_time() -> None:
    inputs = kickoff_inputs("kickoff", at(3))
    assert inputs.literals["kickoff"].scalar.primitive.datetime.ToDatetime(tzinfo=UTC) == at(3)
    assert kickoff_inputs("", at(3)).literals == {}
