"""Property tests: any value of the declared type survives the round trip, also inside records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from skyloom.types import TransferContext, new_engine

ENGINE = new_engine()
CTX = TransferContext.local()
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOATS = st.floats(allow_nan=False)
TEXT = st.text(max_size=20)
WHEN = st.datetimes(
    min_value=dt.datetime(1, 1, 1, 0, 0), timezones=st.just(dt.UTC)
)  # protobuf Timestamps start at year 1
SPAN = st.timedeltas(min_value=dt.timedelta(days=-3650000), max_value=dt.timedelta(days=3650000))


@dataclasses.dataclass
class Row:
    i: int
    f: float
    s: str
    b: bytes
    when: dt.datetime
    span: dt.timedelta
    xs: list[int]
    m: dict[str, float]
    opt: int | None


ROWS = st.builds(
    Row,
    i=INT64,
    f=FLOATS,
    s=TEXT,
    b=st.binary(max_size=16),
    when=WHEN,
    span=SPAN,
    xs=st.lists(INT64, max_size=4),
    m=st.dictionaries(TEXT, FLOATS, max_size=3),
    opt=st.none() | INT64,
)


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(st.dictionaries(TEXT, st.lists(INT64, max_size=3), max_size=3), max_size=4))
def test_nested_containers(xs: list[dict[str, list[int]]]) -> None:
    hint = list[dict[str, list[int]]]
    assert ENGINE.to_python(ENGINE.to_literal(xs, hint, CTX), hint, CTX) == xs


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROWS, max_size=3))
def test_records_round_trip_exactly(rows: list[Row]) -> None:
    lit = ENGINE.to_literal(rows, list[Row], CTX)
    wire = type(lit).FromString(lit.SerializeToString())
    assert ENGINE.to_python(wire, list[Row], CTX) == rows


@settings(max_examples=60, deadline=None)
@given(f=st.floats())
def test_any_float_in_a_record(f: float) -> None:
    @dataclasses.dataclass
    class F:
        f: float

    back = ENGINE.to_python(ENGINE.to_literal(F(f), F, CTX), F, CTX)
    assert isinstance(back, F)
    assert back.f == f or (math.isnan(f) and math.isnan(back.f))
