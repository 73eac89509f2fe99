"""Schedules and triggers as pure functions: validation, fire times, names, trigger cycles.

Admin calls :func:`validate_schedule`, :func:`validate_triggers` and :func:`find_trigger_cycles`
at registration and activation; the scheduler calls :func:`rule_from_proto` and the fire-time
functions. Both sides share this one module so "valid" and "fires at" can never disagree.

Cron semantics (ADR 0111). A cron expression names *wall-clock* times in its time zone, and each
matching wall-clock time fires exactly once:

- a time skipped by a spring-forward change (02:30 on a day the clock jumps 02:00 → 03:00) fires
  at the same distance past the gap, 03:30 (RFC 5545's rule: the offset from before the gap),
  unless that instant is a fire time anyway, in which case it fires once;
- a time repeated by a fall-back change (02:30 on a day the clock goes 03:00 → 02:00) fires at
  its first occurrence only (the summer-time one).

Cron math uses croniter, imported lazily: ``pip install skyloom-core[schedules]`` (the SDK and
task processes never need it). Rates and trigger checks need nothing beyond the standard library.
Every datetime in and out is timezone-aware; results are in UTC.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from skyloom_core.errors import ValidationFailed, Violation
from skyloom_core.ids import fnv1a_128
from skyloom_idl.admin import schedule_pb2, trigger_pb2
from skyloom_idl.core import identifier_pb2, interface_pb2, types_pb2

__all__ = [
    "CRON_ALIASES",
    "CronRule",
    "NamedKey",
    "RateRule",
    "Rule",
    "count_fires",
    "find_trigger_cycles",
    "newest_fires",
    "next_fire",
    "rule_from_proto",
    "trigger_execution_name",
    "validate_schedule",
    "validate_triggers",
]

CRON_ALIASES: Mapping[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_UNIT_MINUTES = {
    schedule_pb2.FixedRate.UNIT_MINUTE: 1,
    schedule_pb2.FixedRate.UNIT_HOUR: 60,
    schedule_pb2.FixedRate.UNIT_DAY: 24 * 60,
}
# Larger than any daylight-saving gap or overlap (the largest in tzdata are 2 hours).
_SLACK = timedelta(hours=3)
_CRON_CHARS = re.compile(r"^[0-9A-Za-z*/,\-]+$")
_TRIGGER_NAME = re.compile(r"^[a-z0-9-]{1,63}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9_-]+$")
_DATETIME = types_pb2.SimpleType.SIMPLE_TYPE_DATETIME

NamedKey = tuple[str, str, str]
"""A launch plan across versions: (project, domain, name)."""


def _croniter() -> Any:
    try:
        from croniter import croniter  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError("cron schedules need `pip install skyloom-core[schedules]`") from exc
    return croniter


@dataclass(frozen=True)
class CronRule:
    """Five-field ``expression`` (aliases expanded) evaluated on the wall clock of ``zone``."""

    expression: str
    zone: zoneinfo.ZoneInfo


@dataclass(frozen=True)
class RateRule:
    """Fires at ``anchor + k * interval`` for k ≥ 1 (whole seconds)."""

    interval: timedelta
    anchor: datetime


Rule = CronRule | RateRule


# --- validation -----------------------------------------------------------------------------


def _expand(expression: str) -> str:
    stripped = expression.strip()
    return CRON_ALIASES.get(stripped, stripped)


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    if not name:
        return zoneinfo.ZoneInfo("UTC")
    if name.startswith(("/", ".")) or ".." in name or any(ord(c) < 33 for c in name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _cron_problem(expression: str) -> str | None:
    if not expression.strip():
        return "a cron expression is required"
    if expression.strip().startswith("@") and expression.strip() not in CRON_ALIASES:
        return f"unknown alias; one of {', '.join(sorted(CRON_ALIASES))}"
    fields = _expand(expression).split()
    if len(fields) != 5:
        return "needs five fields (minute hour day-of-month month day-of-week) or an alias"
    tokens = {t.upper() for f in fields for t in re.split(r"[,/\-]", f)}
    if not all(_CRON_CHARS.match(f) for f in fields) or tokens & {"H", "R"}:
        # H (hashed) and R (random) are croniter extensions whose times are not the same on
        # every replica; names of months and weekdays (JAN, MON) stay allowed.
        return f"invalid cron expression {expression!r}"
    croniter = _croniter()
    if not croniter.is_valid(" ".join(fields)):
        return f"invalid cron expression {expression!r}"
    try:
        croniter(" ".join(fields), datetime(2000, 1, 1)).get_next(datetime)
    except ValueError:
        return f"cron expression {expression!r} never fires"
    return None


def validate_schedule(
    schedule: schedule_pb2.Schedule,
    path: str = "spec.schedule",
    *,
    inputs: interface_pb2.VariableMap | None = None,
    fixed: Collection[str] = (),
) -> list[Violation]:
    """Every problem of ``schedule`` with its field path (``spec.schedule.cron.time_zone``...).

    With ``inputs`` (the workflow's), the kickoff-time input must be a datetime input not in
    ``fixed``. Needs the ``schedules`` extra for cron expressions.
    """
    out: list[Violation] = []
    kind = schedule.WhichOneof("expression")
    if kind is None:
        out.append(Violation(path, "a schedule needs a cron expression or a rate", "Required"))
    elif kind == "cron":
        problem = _cron_problem(schedule.cron.expression)
        if problem:
            out.append(Violation(f"{path}.cron.expression", problem, "InvalidCron"))
        if _zone(schedule.cron.time_zone) is None:
            out.append(
                Violation(
                    f"{path}.cron.time_zone",
                    f"unknown time zone {schedule.cron.time_zone!r}; use an IANA name",
                    "UnknownTimeZone",
                )
            )
    else:
        if schedule.rate.value < 1:
            out.append(Violation(f"{path}.rate.value", "must be at least 1", "InvalidRate"))
        if schedule.rate.unit not in _UNIT_MINUTES:
            out.append(Violation(f"{path}.rate.unit", "must be MINUTE, HOUR or DAY", "Required"))
    if schedule.catch_up_policy not in schedule_pb2.Schedule.CatchUpPolicy.values():
        out.append(Violation(f"{path}.catch_up_policy", "unknown catch-up policy"))
    arg = schedule.kickoff_time_input_arg
    if arg and inputs is not None:
        where = f"{path}.kickoff_time_input_arg"
        variable = inputs.variables.get(arg)
        if variable is None:
            out.append(Violation(where, f"the workflow has no input {arg!r}", "MissingInput"))
        elif variable.type.WhichOneof("type") != "simple" or variable.type.simple != _DATETIME:
            out.append(Violation(where, f"input {arg!r} is not a datetime", "MismatchingTypes"))
        elif arg in fixed:
            out.append(Violation(where, f"input {arg!r} is fixed by the launch plan"))
    return out


def validate_triggers(
    triggers: Sequence[trigger_pb2.Trigger], path: str = "spec.triggers"
) -> list[Violation]:
    """Names, sources and binding sources of ``triggers`` (not their input types)."""
    out: list[Violation] = []
    seen: set[str] = set()
    for i, trigger in enumerate(triggers):
        at = f"{path}[{i}]"
        if not _TRIGGER_NAME.match(trigger.name):
            out.append(Violation(f"{at}.name", "must match [a-z0-9-]{1,63}"))
        elif trigger.name in seen:
            out.append(Violation(f"{at}.name", f"duplicate trigger name {trigger.name!r}"))
        seen.add(trigger.name)
        source = trigger.WhichOneof("source")
        if source is None:
            out.append(Violation(at, "a trigger needs on_execution or on_message", "Required"))
        elif source == "on_execution":
            lp = trigger.on_execution.launch_plan
            if not (lp.project and lp.domain and lp.name):
                out.append(
                    Violation(f"{at}.on_execution.launch_plan", "needs project, domain and name")
                )
            if not trigger.on_execution.phases:
                out.append(Violation(f"{at}.on_execution.phases", "at least one phase"))
        elif not _SUBJECT.match(trigger.on_message.subject):
            out.append(Violation(f"{at}.on_message.subject", "must match [A-Za-z0-9_-]+"))
        for j, binding in enumerate(trigger.bindings):
            where = f"{at}.bindings[{j}]"
            kind = binding.WhichOneof("source")
            if not binding.input:
                out.append(Violation(f"{where}.input", "names an input", "Required"))
            if kind is None:
                out.append(Violation(where, "a binding needs a source", "Required"))
            elif kind == "upstream_output" and source != "on_execution":
                out.append(Violation(f"{where}.upstream_output", "only for execution triggers"))
            elif kind == "message_value" and source != "on_message":
                out.append(Violation(f"{where}.message_value", "only for message triggers"))
            elif (
                kind == "context"
                and binding.context
                == trigger_pb2.TriggerBinding.CONTEXT_VALUE_UPSTREAM_EXECUTION_NAME
                and source != "on_execution"
            ):
                out.append(Violation(f"{where}.context", "only for execution triggers"))
    return out


def _upstreams(triggers: Sequence[trigger_pb2.Trigger]) -> list[tuple[int, NamedKey]]:
    found = []
    for i, trigger in enumerate(triggers):
        if trigger.WhichOneof("source") == "on_execution":
            lp = trigger.on_execution.launch_plan
            found.append((i, (lp.project, lp.domain, lp.name)))
    return found


def find_trigger_cycles(
    activating: NamedKey,
    triggers: Sequence[trigger_pb2.Trigger],
    active: Mapping[NamedKey, Sequence[trigger_pb2.Trigger]],
    path: str = "spec.triggers",
) -> list[Violation]:
    """Violations for each execution trigger of ``activating`` that would close a cycle.

    ``active`` maps every other active launch plan (by name) to its triggers; the activating
    one's entry, if present, is replaced by ``triggers``. An edge runs from an upstream launch
    plan to the plan it triggers, whatever the phases: a chain A → B → A would start executions
    forever. The message names the cycle, e.g. ``p/d/a → p/d/b → p/d/a``.
    """
    graph = {key: _upstreams(ts) for key, ts in active.items()}
    graph[activating] = _upstreams(triggers)

    def path_to(start: NamedKey, goal: NamedKey) -> list[NamedKey] | None:
        # Walk upstream from `start`; a route to `goal` (the activating plan) is a cycle.
        stack: list[tuple[NamedKey, list[NamedKey]]] = [(start, [start])]
        visited: set[NamedKey] = set()
        while stack:
            node, route = stack.pop()
            if node == goal:
                return route
            if node in visited:
                continue
            visited.add(node)
            stack.extend((up, [*route, up]) for _, up in graph.get(node, []))
        return None

    out = []
    for i, upstream in graph[activating]:
        route = path_to(upstream, activating)
        if route is not None:
            names = [activating, *route]
            chain = " → ".join("/".join(k) for k in reversed(names))
            out.append(
                Violation(
                    f"{path}[{i}].on_execution.launch_plan",
                    f"trigger cycle: {chain}",
                    "TriggerCycle",
                )
            )
    return out


# --- rules and fire times -------------------------------------------------------------------


def rule_from_proto(
    schedule: schedule_pb2.Schedule,
    *,
    activated_at: datetime,
    rate_minute: timedelta = timedelta(minutes=1),
) -> Rule:
    """The :class:`Rule` of a valid ``schedule``; raises :class:`ValidationFailed` otherwise.

    ``activated_at`` anchors a rate without an explicit anchor. ``rate_minute`` is how long a
    rate's minute lasts: always one minute in production; tests compress time with it.
    """
    problems = validate_schedule(schedule)
    if problems:
        raise ValidationFailed(problems)
    if schedule.WhichOneof("expression") == "cron":
        zone = _zone(schedule.cron.time_zone)
        assert zone is not None
        return CronRule(_expand(schedule.cron.expression), zone)
    anchor = (
        schedule.rate.anchor.ToDatetime(tzinfo=UTC)
        if schedule.rate.HasField("anchor")
        else activated_at.astimezone(UTC)
    )
    interval = rate_minute * (schedule.rate.value * _UNIT_MINUTES[schedule.rate.unit])
    seconds = max(1, round(interval.total_seconds()))
    return RateRule(timedelta(seconds=seconds), anchor.replace(microsecond=0))


def _instant(wall: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    # fold=0: a skipped time takes the offset from before the gap (moves forward by the gap);
    # a repeated time is its first occurrence.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _wall(at: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def _offset_changes_near(zone: zoneinfo.ZoneInfo, at: datetime) -> bool:
    """Whether ``zone`` changes its UTC offset within ``_SLACK`` of the instant ``at``."""
    before = (at - _SLACK).astimezone(zone).utcoffset()
    return before != at.astimezone(zone).utcoffset() or (
        before != (at + _SLACK).astimezone(zone).utcoffset()
    )


def _cron_next(rule: CronRule, after: datetime) -> datetime:
    wall = _wall(after, rule.zone)
    if _offset_changes_near(rule.zone, after):
        wall -= _SLACK  # a gap just behind `after` may map earlier wall times past it
    candidates = _croniter()(rule.expression, wall - timedelta(microseconds=1))
    best: datetime | None = None
    best_wall = wall
    while True:
        candidate = candidates.get_next(datetime)
        if best is not None and candidate > best_wall + _SLACK:
            return best
        instant = _instant(candidate, rule.zone)
        if instant > after and (best is None or instant < best):
            best, best_wall = instant, candidate
            if not _offset_changes_near(rule.zone, best):
                return best  # wall → instant is monotonic here: no later candidate is earlier


def _cron_prev(rule: CronRule, at_or_before: datetime) -> datetime | None:
    wall = _wall(at_or_before, rule.zone)
    if _offset_changes_near(rule.zone, at_or_before):
        wall += _SLACK
    candidates = _croniter()(rule.expression, wall + timedelta(microseconds=1))
    best: datetime | None = None
    best_wall = wall
    try:
        while True:
            candidate = candidates.get_prev(datetime)
            if best is not None and candidate < best_wall - _SLACK:
                return best
            instant = _instant(candidate, rule.zone)
            if instant <= at_or_before and (best is None or instant > best):
                best, best_wall = instant, candidate
                if not _offset_changes_near(rule.zone, best):
                    return best
    except ValueError:  # nothing earlier (croniter gives up after decades)
        return best


def _rate_index(rule: RateRule, at: datetime) -> int:
    """The largest k with anchor + k·interval ≤ at (may be ≤ 0)."""
    step = rule.interval // timedelta(microseconds=1)
    return ((at - rule.anchor) // timedelta(microseconds=1)) // step


def next_fire(rule: Rule, after: datetime) -> datetime:
    """The first fire time strictly after ``after``."""
    if isinstance(rule, CronRule):
        return _cron_next(rule, after)
    k = max(1, _rate_index(rule, after) + 1)
    return rule.anchor + rule.interval * k


def _prev_fire(rule: Rule, at_or_before: datetime) -> datetime | None:
    if isinstance(rule, CronRule):
        return _cron_prev(rule, at_or_before)
    k = _rate_index(rule, at_or_before)
    return rule.anchor + rule.interval * k if k >= 1 else None


def _forward(rule: Rule, after: datetime, until: datetime) -> Iterator[datetime]:
    at = next_fire(rule, after)
    while at <= until:
        yield at
        at = next_fire(rule, at)


def count_fires(rule: Rule, after: datetime, until: datetime, *, limit: int = 100_000) -> int:
    """How many fire times lie in ``(after, until]``, counting at most ``limit``."""
    if isinstance(rule, RateRule):
        return min(limit, max(0, _rate_index(rule, until) - max(0, _rate_index(rule, after))))
    count = 0
    for _ in _forward(rule, after, until):
        count += 1
        if count >= limit:
            break
    return count


def newest_fires(rule: Rule, after: datetime, until: datetime, *, limit: int) -> list[datetime]:
    """The newest ``limit`` fire times in ``(after, until]``, oldest first."""
    out: list[datetime] = []
    at = _prev_fire(rule, until)
    while at is not None and at > after and len(out) < limit:
        out.append(at)
        at = _prev_fire(rule, at - timedelta(microseconds=1))
    return out[::-1]


def trigger_execution_name(
    launch_plan: identifier_pb2.Identifier, trigger: str, source: str
) -> str:
    """``t`` + 19 hex digits: the execution a trigger starts for ``source`` (the upstream
    execution ``project/domain/name`` or a message id). A redelivered event gets the same name."""
    lp = launch_plan
    text = f"{lp.project}:{lp.domain}:{lp.name}:{lp.version}:{trigger}:{source}"
    return "t" + f"{fnv1a_128(text.encode()):032x}"[:19]
