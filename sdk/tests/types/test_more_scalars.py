"""``date`` and ``Literal["a", "b"]``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest

from skyloom.types import TransferContext, TypeEngine, TypeTransformerError

Speed = Literal["fast", "slow"]


def test_date_round_trip_and_type(engine: TypeEngine, ctx: TransferContext) -> None:
    day = dt.date(2024, 2, 29)
    lit = engine.to_literal(day, dt.date, ctx)
    assert engine.to_python(lit, dt.date, ctx) == day
    assert engine.to_python(lit, dt.datetime, ctx) == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    assert engine.literal_type(dt.date) == engine.literal_type(dt.datetime)
    with pytest.raises(TypeTransformerError, match="expected date, got datetime"):
        engine.to_literal(dt.datetime(2024, 1, 1), dt.date, ctx)


def test_literal_strings(engine: TypeEngine, ctx: TransferContext) -> None:
    assert list(engine.literal_type(Speed).enum_type.values) == ["fast", "slow"]
    lit = engine.to_literal("slow", Speed, ctx)
    assert lit.scalar.enum_value == "slow"
    assert engine.to_python(lit, Speed, ctx) == "slow"
    with pytest.raises(
        TypeTransformerError, match="expected one of 'fast', 'slow', got str 'medium'"
    ):
        engine.to_literal("medium", Speed, ctx)


def test_literal_strings_in_lists(engine: TypeEngine, ctx: TransferContext) -> None:
    value = ["fast", "fast", "slow"]
    assert engine.to_python(engine.to_literal(value, list[Speed], ctx), list[Speed], ctx) == value
