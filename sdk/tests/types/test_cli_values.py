"""Command-line text and JSON into typed values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from pathlib import Path
from typing import Literal

import pytest

from skyloom.files import File
from skyloom.types import TransferContext, TypeEngine, TypeTransformerError
from skyloom.types.cli_values import from_json, parse_text, to_json
from skyloom.types.hints import TypeHint


class Mode(enum.Enum):
    FAST = "fast"


@dataclasses.dataclass
class Cfg:
    lr: float
    when: dt.datetime
    tags: list[str] = dataclasses.field(default_factory=list)


CASES: list[tuple[str, TypeHint, object]] = [
    ("3", int, 3),
    ("-2.5", float, -2.5),
    ("Yes", bool, True),
    ("0", bool, False),
    ("hello world", str, "hello world"),
    ("2024-05-01", dt.datetime, dt.datetime(2024, 5, 1, tzinfo=dt.UTC)),
    ("2024-05-01T12:00:00+02:00", dt.datetime, dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)),
    ("90", dt.timedelta, dt.timedelta(seconds=90)),
    ("2024-02-29", dt.date, dt.date(2024, 2, 29)),
    ("slow", Literal["fast", "slow"], "slow"),
    ("1.5s", dt.timedelta, dt.timedelta(seconds=1.5)),
    ("fast", Mode, Mode.FAST),
    ("FAST", Mode, Mode.FAST),
    ("[1, 2]", list[int], [1, 2]),
    ('{"a": [0.5]}', dict[str, list[float]], {"a": [0.5]}),
    ("null", int | None, None),
    ("7", int | None, 7),
    ("plain", str | None, "plain"),
    (
        '{"lr": 0.1, "when": "2024-05-01T00:00:00Z"}',
        Cfg,
        Cfg(0.1, dt.datetime(2024, 5, 1, tzinfo=dt.UTC)),
    ),
]


@pytest.mark.parametrize(("text", "hint", "expected"), CASES, ids=lambda v: repr(v)[:30])
def test_parse_text(
    engine: TypeEngine, ctx: TransferContext, text: str, hint: TypeHint, expected: object
) -> None:
    assert parse_text(engine, text, hint, ctx) == expected


def test_parse_file(engine: TypeEngine, ctx: TransferContext, tmp_path: Path) -> None:
    value = parse_text(engine, str(tmp_path / "x.csv"), File, ctx)
    assert isinstance(value, File)
    assert value.local_path == tmp_path / "x.csv"


@pytest.mark.parametrize(
    ("text", "hint", "message"),
    [
        ("abc", int, "expected int, got text 'abc'"),
        ("maybe", bool, "expected bool, got text 'maybe'"),
        ("slow", Mode, "expected Mode, got text 'slow'"),
        ("[1, 2", list[int], "expected list[int], got text '[1, 2'"),
        ('{"lr": "x", "when": "2024-05-01T00:00:00Z"}', Cfg, "expected float at '.lr'"),
    ],
)
def test_parse_errors(
    engine: TypeEngine, ctx: TransferContext, text: str, hint: TypeHint, message: str
) -> None:
    with pytest.raises(TypeTransformerError) as info:
        parse_text(engine, text, hint, ctx)
    assert str(info.value).startswith(message)


def test_json_round_trip(engine: TypeEngine, ctx: TransferContext) -> None:
    cfg = Cfg(0.25, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), ["a"])
    data = to_json(engine, cfg, Cfg, ctx)
    assert data == {"lr": 0.25, "when": "2024-01-01T00:00:00Z", "tags": ["a"]}
    assert from_json(engine, data, Cfg, ctx) == cfg


def test_big_ints_in_json_records_stay_exact(engine: TypeEngine, ctx: TransferContext) -> None:
    @dataclasses.dataclass
    class Big:
        n: int

    assert parse_text(engine, '{"n": 9007199254740993}', Big, ctx) == Big(2**53 + 1)
