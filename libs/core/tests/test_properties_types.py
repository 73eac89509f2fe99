"""Property tests over random types and values: castability, validation and hashing agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from skyloom_core import build as t
from skyloom_core.hashing import hash_literal_map
from skyloom_core.types import is_castable, type_name
from skyloom_core.validation import validate_literal
from skyloom_idl.core import literals_pb2, types_pb2

SIMPLE = [t.INT, t.FLOAT, t.STR, t.BOOL]
KEYS = st.text(alphabet="abcxyz_", min_size=1, max_size=4)


def types() -> st.SearchStrategy[types_pb2.LiteralType]:
    return st.recursive(
        st.sampled_from(SIMPLE),
        lambda inner: st.one_of(
            inner.map(t.list_type),
            inner.map(t.dict_type),
            inner.map(t.optional_type),
        ),
        max_leaves=6,
    )


@st.composite
def values(draw: st.DrawFn, lt: types_pb2.LiteralType) -> literals_pb2.Literal:
    kind = lt.WhichOneof("type")
    if kind == "collection_type":
        return t.list_literal(draw(st.lists(values(lt.collection_type), max_size=3)))
    if kind == "map_value_type":
        return t.map_literal(draw(st.dictionaries(KEYS, values(lt.map_value_type), max_size=3)))
    if kind == "union_type":
        return draw(st.one_of(st.just(t.none_literal()), values(lt.union_type.variants[0])))
    if lt.simple == t.INT.simple:
        return t.int_literal(draw(st.integers(-(2**63), 2**63 - 1)))
    if lt.simple == t.FLOAT.simple:
        return t.float_literal(draw(st.floats(allow_nan=True)))
    if lt.simple == t.STR.simple:
        return t.str_literal(draw(st.text(max_size=5)))
    return t.bool_literal(draw(st.booleans()))


@settings(max_examples=200, deadline=None)
@given(types())
def test_every_type_fits_itself_its_optional_and_any(lt: types_pb2.LiteralType) -> None:
    assert is_castable(lt, lt)
    assert is_castable(lt, t.optional_type(lt))
    assert is_castable(lt, t.ANY)
    assert type_name(lt)


@settings(max_examples=200, deadline=None)
@given(types().flatmap(lambda lt: st.tuples(st.just(lt), values(lt))))
def test_generated_values_validate_against_their_type(
    pair: tuple[types_pb2.LiteralType, literals_pb2.Literal],
) -> None:
    lt, value = pair
    assert validate_literal(value, lt, "v") == []
    assert validate_literal(value, t.BINARY, "v") != []


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(KEYS, types().flatmap(values), max_size=6), st.randoms(use_true_random=False)
)
def test_hash_ignores_insertion_order(items: dict[str, literals_pb2.Literal], rnd: object) -> None:
    keys = list(items)
    rnd.shuffle(keys)  # type: ignore[attr-defined]
    forward = literals_pb2.LiteralMap()
    for k in items:
        forward.literals[k].CopyFrom(items[k])
    shuffled = literals_pb2.LiteralMap()
    for k in keys:
        shuffled.literals[k].CopyFrom(items[k])
    round_trip = literals_pb2.LiteralMap.FromString(shuffled.SerializeToString())
    assert hash_literal_map(forward) == hash_literal_map(shuffled) == hash_literal_map(round_trip)
