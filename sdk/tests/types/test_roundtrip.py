# ruff: noqa: UP007, UP045 - typing.Optional/Union are tested on purpose
"""Every built-in transformer: value → literal → value gives the value back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Optional, Union

import pytest

from skyloom.types import TransferContext, TypeEngine
from skyloom.types.hints import TypeHint


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Inner:
    lr: float
    when: dt.datetime
    color: Color = Color.RED


@dataclasses.dataclass
class Outer:
    name: str
    inners: list[Inner]
    by_key: dict[str, Inner]
    maybe: Optional[Inner] = None
    big: int = 2**62
    raw: bytes = b"\x00\xff"
    span: dt.timedelta = dt.timedelta(days=1, microseconds=7)
    either: Union[int, str] = 0
    nan: float = 1.5


UTC = dt.UTC
WHEN = dt.datetime(2024, 5, 1, 12, 30, 5, 123456, tzinfo=UTC)

CASES: list[tuple[TypeHint, object]] = [
    (int, 0),
    (int, -(2**63)),
    (int, 2**63 - 1),
    (float, 3.25),
    (float, float("inf")),
    (bool, True),
    (str, "héllo"),
    (bytes, b"\x00\x01binary"),
    (dt.datetime, WHEN),
    (dt.timedelta, dt.timedelta(days=-2, seconds=5, microseconds=1)),
    (Color, Color.GREEN),
    (list[int], [1, 2, 3]),
    (list[int], []),
    (dict[str, float], {"a": 1.0, "b": -2.5}),
    (list[list[str]], [["a"], [], ["b", "c"]]),
    (Optional[int], None),
    (Optional[int], 4),
    (int | None, 5),
    (Union[int, str], "x"),
    (Union[int, str], 7),
    (Inner, Inner(0.1, WHEN, Color.GREEN)),
    (
        Outer,
        Outer(
            "o",
            [Inner(1.0, WHEN)],
            {"k": Inner(2.0, WHEN, Color.GREEN)},
            maybe=Inner(3.0, WHEN),
            big=-(2**60) - 1,
            either="s",
        ),
    ),
    (
        list[dict[str, list[Inner]]],
        [{"a": [Inner(0.5, WHEN)], "b": []}, {}],
    ),
    (Optional[list[Inner]], [Inner(0.25, WHEN)]),
]


@pytest.mark.parametrize(("hint", "value"), CASES, ids=lambda v: repr(v)[:40])
def test_round_trip(
    engine: TypeEngine, ctx: TransferContext, hint: TypeHint, value: object
) -> None:
    literal = engine.to_literal(value, hint, ctx)
    # the wire form survives serialization
    restored = type(literal).FromString(literal.SerializeToString())
    assert engine.to_python(restored, hint, ctx) == value


def test_nan_float_round_trips_inside_a_dataclass(engine: TypeEngine, ctx: TransferContext) -> None:
    value = Outer("o", [], {}, nan=float("nan"))
    back = engine.to_python(engine.to_literal(value, Outer, ctx), Outer, ctx)
    assert isinstance(back, Outer)
    assert back.nan != back.nan  # NaN, not a string or None


def test_int_widens_to_float(engine: TypeEngine, ctx: TransferContext) -> None:
    literal = engine.to_literal(3, float, ctx)
    assert literal.scalar.primitive.float_value == 3.0
    assert engine.to_python(literal, float, ctx) == 3.0


def test_aware_datetime_is_normalized_to_utc(engine: TypeEngine, ctx: TransferContext) -> None:
    tz = dt.timezone(dt.timedelta(hours=2))
    local = dt.datetime(2024, 5, 1, 14, 0, tzinfo=tz)
    back = engine.to_python(engine.to_literal(local, dt.datetime, ctx), dt.datetime, ctx)
    assert isinstance(back, dt.datetime)
    assert back == local
    assert back.tzinfo == UTC
    assert back.hour == 12


def test_naive_datetime_is_taken_as_utc(engine: TypeEngine, ctx: TransferContext) -> None:
    naive = dt.datetime(2024, 5, 1, 14, 0)
    back = engine.to_python(engine.to_literal(naive, dt.datetime, ctx), dt.datetime, ctx)
    assert back == naive.replace(tzinfo=UTC)


def test_enum_accepts_raw_value(engine: TypeEngine, ctx: TransferContext) -> None:
    literal = engine.to_literal("green", Color, ctx)
    assert engine.to_python(literal, Color, ctx) is Color.GREEN


def test_dataclass_missing_field_takes_default(engine: TypeEngine, ctx: TransferContext) -> None:
    @dataclasses.dataclass
    class Old:
        lr: float
        when: dt.datetime

    literal = engine.to_literal(Old(0.5, WHEN), Old, ctx)
    assert engine.to_python(literal, Inner, ctx) == Inner(0.5, WHEN, Color.RED)


def test_frozen_dataclass_with_non_init_field(engine: TypeEngine, ctx: TransferContext) -> None:
    @dataclasses.dataclass(frozen=True)
    class Frozen:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    value = Frozen(1)
    object.__setattr__(value, "b", 9)
    assert engine.to_python(engine.to_literal(value, Frozen, ctx), Frozen, ctx) == value
