"""Schedule validation (pure): cron expressions, time zones, fixed rates, the kickoff input."""

from __future__ import annotations

import zoneinfo

from croniter import croniter  # type: ignore[import-untyped]

from skyloom_common.errors import FieldViolation
from skyloom_idl.admin import schedule_pb2
from skyloom_idl.core import interface_pb2, types_pb2

__all__ = ["CRON_ALIASES", "validate_schedule"]

CRON_ALIASES = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"})
_DATETIME = types_pb2.SimpleType.SIMPLE_TYPE_DATETIME


def _cron(cron: schedule_pb2.CronSchedule, path: str) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    expression = cron.expression.strip()
    if not expression:
        out.append(FieldViolation(f"{path}.expression", "a cron expression is required"))
    elif expression.startswith("@"):
        if expression not in CRON_ALIASES:
            out.append(
                FieldViolation(
                    f"{path}.expression", f"unknown alias; one of {sorted(CRON_ALIASES)}"
                )
            )
    elif len(expression.split()) != 5:
        out.append(
            FieldViolation(
                f"{path}.expression",
                "needs five fields (minute hour day-of-month month day-of-week)",
            )
        )
    elif any(ord(c) < 32 for c in expression) or not croniter.is_valid(expression):
        out.append(FieldViolation(f"{path}.expression", f"invalid cron expression {expression!r}"))
    if cron.time_zone:
        try:
            if "/.." in cron.time_zone or cron.time_zone.startswith(("/", ".")):
                raise ValueError(cron.time_zone)
            zoneinfo.ZoneInfo(cron.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            out.append(FieldViolation(f"{path}.time_zone", f"unknown time zone {cron.time_zone!r}"))
    return out


def validate_schedule(
    schedule: schedule_pb2.Schedule,
    path: str,
    *,
    inputs: interface_pb2.VariableMap,
    fixed: frozenset[str],
) -> list[FieldViolation]:
    """Every problem of ``schedule`` (at ``path``, e.g. ``spec.schedule``)."""
    out: list[FieldViolation] = []
    kind = schedule.WhichOneof("expression")
    if kind is None:
        out.append(FieldViolation(path, "a schedule needs a cron expression or a rate"))
    elif kind == "cron":
        out += _cron(schedule.cron, f"{path}.cron")
    else:
        rate = schedule.rate
        if rate.value < 1:
            out.append(FieldViolation(f"{path}.rate.value", "must be at least 1"))
        if rate.unit not in (
            schedule_pb2.FixedRate.UNIT_MINUTE,
            schedule_pb2.FixedRate.UNIT_HOUR,
            schedule_pb2.FixedRate.UNIT_DAY,
        ):
            out.append(FieldViolation(f"{path}.rate.unit", "must be MINUTE, HOUR or DAY"))
    if schedule.catch_up_policy not in schedule_pb2.Schedule.CatchUpPolicy.values():
        out.append(FieldViolation(f"{path}.catch_up_policy", "unknown policy"))
    arg = schedule.kickoff_time_input_arg
    if arg:
        where = f"{path}.kickoff_time_input_arg"
        variable = inputs.variables.get(arg)
        if variable is None:
            out.append(FieldViolation(where, f"the workflow has no input {arg!r}"))
        elif variable.type.simple != _DATETIME or variable.type.WhichOneof("type") != "simple":
            out.append(FieldViolation(where, f"input {arg!r} is not a datetime"))
        elif arg in fixed:
            out.append(FieldViolation(where, f"input {arg!r} is fixed by the launch plan"))
    return out
