"""Fire planning, pure: which scheduled times to fire now, by catch-up policy, and with what.

:func:`plan_fires` is called by the leader on every tick with the schedule's rule, the time
it may resume after (``max(last recorded fire, activation)``) and ``now`` from an injected
clock. It never does I/O, so catch-up after any outage is a table-driven unit test.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from skyloom_core.schedules import Rule, count_fires, newest_fires, next_fire
from skyloom_idl.admin import schedule_pb2
from skyloom_idl.core import literals_pb2

__all__ = [
    "COUNT_LIMIT",
    "CatchUp",
    "FirePlan",
    "PlannedFire",
    "datetime_literal",
    "kickoff_inputs",
    "plan_fires",
]


COUNT_LIMIT = 10_000
"""Missed times are counted (for ``skipped``) up to this many; a longer outage reports this."""


class CatchUp(enum.Enum):
    """What to do with fire times missed while no scheduler was acting."""

    ALL = "all"
    LATEST = "latest"
    NONE = "none"

    @classmethod
    def from_proto(cls, value: int) -> CatchUp:
        if value == schedule_pb2.Schedule.CATCH_UP_POLICY_ALL:
            return cls.ALL
        if value == schedule_pb2.Schedule.CATCH_UP_POLICY_NONE:
            return cls.NONE
        return cls.LATEST  # UNSPECIFIED means LATEST


@dataclass(frozen=True)
class PlannedFire:
    """One scheduled time to fire; ``catch_up`` when it is later than the grace allows."""

    at: datetime
    catch_up: bool


@dataclass(frozen=True)
class FirePlan:
    """``fires`` oldest first; ``skipped`` missed times the policy drops; ``cursor`` the
    newest time now dealt with (fired or skipped), ``None`` if nothing was due; ``next_at``
    the first fire time after ``now``."""

    fires: tuple[PlannedFire, ...]
    skipped: int
    cursor: datetime | None
    next_at: datetime


def plan_fires(
    rule: Rule,
    *,
    resume_after: datetime,
    now: datetime,
    policy: CatchUp,
    cap: int,
    grace: timedelta,
) -> FirePlan:
    """The fires due in ``(resume_after, now]`` under ``policy``.

    A time at most ``grace`` old is on time and fires under every policy. Older ones are
    missed: ALL fires the newest ``cap`` of them (oldest first) and drops the rest, LATEST
    fires only the newest due time, NONE fires none of them.
    """
    next_at = next_fire(rule, now)
    newest = newest_fires(rule, resume_after, now, limit=cap if policy is CatchUp.ALL else 1)
    if not newest:
        return FirePlan((), 0, None, next_at)
    due = count_fires(rule, resume_after, now, limit=COUNT_LIMIT)
    fires = tuple(PlannedFire(at, catch_up=now - at > grace) for at in newest)
    if policy is CatchUp.NONE:
        fires = tuple(f for f in fires if not f.catch_up)
    return FirePlan(fires, max(0, due - len(fires)), newest[-1], next_at)


def datetime_literal(at: datetime) -> literals_pb2.Literal:
    """A datetime literal of ``at``."""
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(datetime=stamp))
    )


def kickoff_inputs(kickoff_arg: str, at: datetime) -> literals_pb2.LiteralMap:
    """The inputs of a scheduled execution: the fire time in ``kickoff_arg``, if named."""
    inputs = literals_pb2.LiteralMap()
    if kickoff_arg:
        inputs.literals[kickoff_arg].CopyFrom(datetime_literal(at))
    return inputs
