"""Schedules: cron and rate fire times (DST, month ends), validation paths, trigger cycles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from skyloom_core.errors import ValidationFailed
from skyloom_core.schedules import (
    CronRule,
    RateRule,
    count_fires,
    find_trigger_cycles,
    newest_fires,
    next_fire,
    rule_from_proto,
    trigger_execution_name,
    validate_schedule,
    validate_triggers,
)
from skyloom_idl.admin import schedule_pb2, trigger_pb2
from skyloom_idl.core import execution_pb2, identifier_pb2, interface_pb2, types_pb2


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def fires(rule: CronRule | RateRule, after: datetime, n: int) -> list[datetime]:
    out = []
    for _ in range(n):
        after = next_fire(rule, after)
        out.append(after)
    return out


BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

# (expression, zone, after, expected next fire times in UTC)
CRON_CASES = [
    pytest.param(
        "30 2 * * *", BERLIN, utc(2026, 3, 28, 12),
        # 02:30 does not exist on 29 March (02:00 -> 03:00): it fires at 03:30 CEST.
        [utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30)],
        id="berlin-spring-forward-daily-0230",
    ),
    pytest.param(
        "30 2 * * *", BERLIN, utc(2026, 10, 24, 12),
        # 02:30 happens twice on 25 October: only the first (CEST, 00:30Z) fires.
        [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30), utc(2026, 10, 27, 1, 30)],
        id="berlin-fall-back-daily-0230",
    ),
    pytest.param(
        "0 * * * *", BERLIN, utc(2026, 10, 24, 23, 30),
        # Wall clock 01:00, 02:00 (CEST), [02:00 CET repeats: no fire], 03:00 CET.
        [utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0), utc(2026, 10, 25, 3, 0)],
        id="berlin-fall-back-hourly",
    ),
    pytest.param(
        "*/30 * * * *", BERLIN, utc(2026, 3, 29, 0, 0),
        # 01:30 CET, then 02:00/02:30 do not exist and coincide with 03:00/03:30 CEST: once each.
        [utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30),
         utc(2026, 3, 29, 2, 0)],
        id="berlin-spring-forward-half-hourly",
    ),
    pytest.param(
        "30 2 * * *", NEW_YORK, utc(2026, 3, 7, 12),
        [utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)],  # 03:30 EDT, then 02:30 EDT
        id="new-york-spring-forward",
    ),
    pytest.param(
        "0 0 31 * *", ZoneInfo("UTC"), utc(2026, 1, 31),
        [utc(2026, 3, 31), utc(2026, 5, 31), utc(2026, 7, 31), utc(2026, 8, 31)],
        id="day-31-skips-short-months",
    ),
    pytest.param(
        "0 6 29 2 *", ZoneInfo("UTC"), utc(2026, 1, 1),
        [utc(2028, 2, 29, 6), utc(2032, 2, 29, 6)],
        id="leap-day",
    ),
    pytest.param(
        "0 0 L * *", ZoneInfo("UTC"), utc(2026, 1, 31, 1),
        [utc(2026, 2, 28), utc(2026, 3, 31), utc(2026, 4, 30)],
        id="last-day-of-month",
    ),
    pytest.param(
        "@monthly", ZoneInfo("Asia/Kolkata"), utc(2026, 1, 1),
        [utc(2026, 1, 31, 18, 30), utc(2026, 2, 28, 18, 30)],  # midnight IST on the 1st
        id="monthly-alias-kolkata",
    ),
    pytest.param(
        "0 0 * * 1-5", ZoneInfo("UTC"), utc(2026, 11, 20, 12),  # a Friday
        [utc(2026, 11, 23), utc(2026, 11, 24)],
        id="weekdays",
    ),
    pytest.param(
        "15 2 * * *", ZoneInfo("Australia/Lord_Howe"), utc(2026, 10, 3, 0),
        # Lord Howe moves 02:00 -> 02:30 (a 30-minute gap): 02:15 fires at 02:45 (+11).
        [utc(2026, 10, 3, 15, 45), utc(2026, 10, 4, 15, 15)],
        id="half-hour-dst-gap",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("expression", "zone", "after", "expected"), CRON_CASES)
def test_cron_next_fires(
    expression: str, zone: ZoneInfo, after: datetime, expected: list[datetime]
) -> None:
    rule = rule_from_proto(
        schedule_pb2.Schedule(
            cron=schedule_pb2.CronSchedule(expression=expression, time_zone=zone.key)
        ),
        activated_at=after,
    )
    assert fires(rule, after, len(expected)) == expected


def test_newest_fires_walks_back_across_a_dst_change() -> None:
    rule = CronRule("30 2 * * *", BERLIN)
    got = newest_fires(rule, utc(2026, 3, 27), utc(2026, 3, 31, 2), limit=10)
    assert got == [
        utc(2026, 3, 27, 1, 30),
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
        utc(2026, 3, 31, 0, 30),
    ]
    assert newest_fires(rule, utc(2026, 3, 27), utc(2026, 3, 31, 2), limit=2) == got[-2:]
    assert count_fires(rule, utc(2026, 3, 27), utc(2026, 3, 31, 2)) == 5


def test_fall_back_hour_fires_once_walking_backwards() -> None:
    rule = CronRule("30 * * * *", BERLIN)
    got = newest_fires(rule, utc(2026, 10, 24, 23), utc(2026, 10, 25, 3), limit=10)
    # 01:30 CEST, 02:30 CEST, (02:30 CET repeated: skipped), 03:30 CET
    assert got == [utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30)]


def test_rate_fires_at_anchor_multiples() -> None:
    rule = RateRule(timedelta(seconds=90), utc(2026, 1, 1))
    assert next_fire(rule, utc(2025, 12, 31)) == utc(2026, 1, 1, 0, 1, 30)  # k starts at 1
    assert next_fire(rule, utc(2026, 1, 1)) == utc(2026, 1, 1, 0, 1, 30)
    assert next_fire(rule, utc(2026, 1, 1, 0, 1, 30)) == utc(2026, 1, 1, 0, 3)
    assert count_fires(rule, utc(2026, 1, 1), utc(2026, 1, 1, 1)) == 40
    assert newest_fires(rule, utc(2026, 1, 1), utc(2026, 1, 1, 1), limit=2) == [
        utc(2026, 1, 1, 0, 58, 30),
        utc(2026, 1, 1, 1),
    ]
    assert newest_fires(rule, utc(2025, 1, 1), utc(2026, 1, 1, 0, 1), limit=5) == []


def test_rate_from_proto_anchor_and_minute_length() -> None:
    activated = utc(2026, 5, 1, 10, 0, 7) + timedelta(microseconds=500)
    schedule = schedule_pb2.Schedule(
        rate=schedule_pb2.FixedRate(value=2, unit=schedule_pb2.FixedRate.UNIT_HOUR)
    )
    rule = rule_from_proto(schedule, activated_at=activated)
    assert rule == RateRule(timedelta(hours=2), utc(2026, 5, 1, 10, 0, 7))
    schedule.rate.anchor.FromDatetime(datetime(2026, 1, 1))
    schedule.rate.value, schedule.rate.unit = 1, schedule_pb2.FixedRate.UNIT_MINUTE
    fast = rule_from_proto(schedule, activated_at=activated, rate_minute=timedelta(seconds=2))
    assert fast == RateRule(timedelta(seconds=2), utc(2026, 1, 1))


def cron(expression: str, zone: str = "") -> schedule_pb2.Schedule:
    return schedule_pb2.Schedule(
        cron=schedule_pb2.CronSchedule(expression=expression, time_zone=zone)
    )


BAD = [
    (cron("61 * * * *"), "spec.schedule.cron.expression", "invalid cron expression"),
    (cron("0 0 * * * *"), "spec.schedule.cron.expression", "five fields"),
    (cron("* * *"), "spec.schedule.cron.expression", "five fields"),
    (cron("@fortnightly"), "spec.schedule.cron.expression", "unknown alias"),
    (cron(""), "spec.schedule.cron.expression", "required"),
    (cron("H * * * *"), "spec.schedule.cron.expression", "invalid cron expression"),
    (cron("0 0 30 2 *"), "spec.schedule.cron.expression", "never fires"),
    (cron("0 * * * *", "Mars/Olympus_Mons"), "spec.schedule.cron.time_zone", "unknown time zone"),
    (cron("0 * * * *", "../../etc/passwd"), "spec.schedule.cron.time_zone", "unknown time zone"),
    (
        schedule_pb2.Schedule(
            rate=schedule_pb2.FixedRate(value=0, unit=schedule_pb2.FixedRate.UNIT_MINUTE)
        ),
        "spec.schedule.rate.value",
        "at least 1",
    ),
    (
        schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=5)),
        "spec.schedule.rate.unit",
        "MINUTE, HOUR or DAY",
    ),
    (schedule_pb2.Schedule(), "spec.schedule", "cron expression or a rate"),
]


@pytest.mark.parametrize(("schedule", "path", "text"), BAD)
def test_bad_schedules_are_rejected_with_field_paths(
    schedule: schedule_pb2.Schedule, path: str, text: str
) -> None:
    problems = validate_schedule(schedule)
    assert [p.field_path for p in problems] == [path]
    assert text in problems[0].message
    with pytest.raises(ValidationFailed):
        rule_from_proto(schedule, activated_at=utc(2026, 1, 1))


@pytest.mark.parametrize(
    "good", ["*/5 * * * *", "0 9 * * MON-FRI", "@hourly", "@yearly", "0 0 1 JAN *", " @daily "]
)
def test_good_cron_expressions(good: str) -> None:
    assert validate_schedule(cron(good, "Europe/Berlin")) == []


def test_kickoff_input_must_be_a_free_datetime_input() -> None:
    dt = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_DATETIME)
    integer = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_INTEGER)
    inputs = interface_pb2.VariableMap(
        variables={"at": interface_pb2.Variable(type=dt), "n": interface_pb2.Variable(type=integer)}
    )
    schedule = cron("@hourly")
    for arg, fixed, message in [
        ("missing", (), "has no input"),
        ("n", (), "not a datetime"),
        ("at", ("at",), "fixed"),
    ]:
        schedule.kickoff_time_input_arg = arg
        problems = validate_schedule(schedule, inputs=inputs, fixed=fixed)
        assert [p.field_path for p in problems] == ["spec.schedule.kickoff_time_input_arg"]
        assert message in problems[0].message
    schedule.kickoff_time_input_arg = "at"
    assert validate_schedule(schedule, inputs=inputs) == []


SUCCEEDED = execution_pb2.WorkflowExecution.PHASE_SUCCEEDED


def on(upstream: str, name: str = "after") -> trigger_pb2.Trigger:
    return trigger_pb2.Trigger(
        name=name,
        on_execution=trigger_pb2.ExecutionTrigger(
            launch_plan=identifier_pb2.NamedEntityIdentifier(
                project="p", domain="d", name=upstream
            ),
            phases=[SUCCEEDED],
        ),
    )


def test_trigger_chain_without_cycle_is_accepted() -> None:
    active = {("p", "d", "b"): [on("a")]}
    assert find_trigger_cycles(("p", "d", "c"), [on("b")], active) == []


def test_trigger_cycle_is_rejected_with_its_path() -> None:
    active = {("p", "d", "b"): [on("a")], ("p", "d", "c"): [on("b")]}
    problems = find_trigger_cycles(("p", "d", "a"), [on("x", "other"), on("c")], active)
    assert [p.field_path for p in problems] == ["spec.triggers[1].on_execution.launch_plan"]
    assert problems[0].message == "trigger cycle: p/d/a → p/d/b → p/d/c → p/d/a"
    assert problems[0].code == "TriggerCycle"


def test_self_trigger_is_a_cycle() -> None:
    problems = find_trigger_cycles(("p", "d", "a"), [on("a")], {("p", "d", "a"): []})
    assert problems[0].message == "trigger cycle: p/d/a → p/d/a"


def test_trigger_validation_paths() -> None:
    bad_binding = trigger_pb2.Trigger(
        name="Bad_Name",
        on_message=trigger_pb2.SubjectTrigger(subject="a.b"),
        bindings=[trigger_pb2.TriggerBinding(input="x", upstream_output="o")],
    )
    empty = trigger_pb2.Trigger(name="dup", on_execution=trigger_pb2.ExecutionTrigger())
    problems = validate_triggers([bad_binding, empty, on("a", "dup")])
    assert [p.field_path for p in problems] == [
        "spec.triggers[0].name",
        "spec.triggers[0].on_message.subject",
        "spec.triggers[0].bindings[0].upstream_output",
        "spec.triggers[1].on_execution.launch_plan",
        "spec.triggers[1].on_execution.phases",
        "spec.triggers[2].name",
    ]


def test_trigger_execution_names_are_deterministic_dns_labels() -> None:
    lp = identifier_pb2.Identifier(project="p", domain="d", name="b", version="v1")
    name = trigger_execution_name(lp, "after", "p/d/f123")
    assert name == trigger_execution_name(lp, "after", "p/d/f123")
    assert name != trigger_execution_name(lp, "after", "p/d/f124")
    assert len(name) == 20
    assert name[0] == "t"
    assert name.isalnum()
    assert name.islower()


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (BERLIN, (2026, 3, 29)),
        (BERLIN, (2026, 10, 25)),
        (ZoneInfo("Australia/Lord_Howe"), (2026, 4, 5)),
    ],
)
def test_forward_and_backward_walks_agree_around_transitions(
    zone: ZoneInfo, day: tuple[int, int, int]
) -> None:
    rule = CronRule("*/15 * * * *", zone)
    start = utc(*day) - timedelta(hours=12)
    end = utc(*day) + timedelta(hours=12)
    forward = []
    at = start
    while (at := next_fire(rule, at)) <= end:
        forward.append(at)
    assert forward == sorted(set(forward))  # strictly increasing, no duplicates
    assert newest_fires(rule, start, end, limit=10_000) == forward
    assert count_fires(rule, start, end) == len(forward)
    walls = [f.astimezone(zone).replace(tzinfo=None) for f in forward]
    assert len(set(walls)) == len(walls)  # a repeated wall time fires once
    assert count_fires(rule, start, end, limit=5) == 5
