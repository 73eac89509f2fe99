"""Lists of scalars convert in one pass (``PrimitiveTransformer.extend_literals`` /
``values_of``), with the same literals, values and errors as one conversion per element."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from skyloom.types import TransferContext, TypeEngine, TypeTransformerError
from skyloom_idl.core import literals_pb2


class Level(enum.IntEnum):
    LOW = 1


CASES: list[tuple[Any, list[Any]]] = [
    (int, [0, 1, -(2**63), 2**63 - 1, Level.LOW]),
    (float, [0.5, 2, -1.0]),
    (bool, [True, False]),
    (str, ["", "a", "é"]),
]


@pytest.mark.parametrize(("t", "values"), CASES)
def test_same_literals_as_per_element(
    engine: TypeEngine, ctx: TransferContext, t: Any, values: list[Any]
) -> None:
    lit = engine.to_literal(values, list[t], ctx)
    expected = [engine.to_literal(v, t, ctx) for v in values]
    assert list(lit.collection.literals) == expected
    back = engine.to_python(lit, list[t], ctx)
    assert back == [engine.to_python(e, t, ctx) for e in expected]
    assert [type(v) for v in back] == [t] * len(values)


@pytest.mark.parametrize(
    ("t", "values", "message"),
    [
        (int, [1, 2, True], "expected int for input 'xs[2]', got bool True"),
        (int, [1, 2**64], "expected int within 64 bits for input 'xs[1]'"),
        (float, [1.0, "x"], "expected float for input 'xs[1]', got str 'x'"),
        (str, [1], "expected str for input 'xs[0]', got int 1"),
    ],
)
def test_bad_element_named_by_index(
    engine: TypeEngine, ctx: TransferContext, t: Any, values: list[Any], message: str
) -> None:
    with pytest.raises(TypeTransformerError) as info:
        engine.literal_map({"xs": values}, {"xs": list[t]}, ctx)
    assert str(info.value).startswith(message)


def test_read_widens_ints_and_names_a_wrong_literal(
    engine: TypeEngine, ctx: TransferContext
) -> None:
    lit = literals_pb2.Literal()
    lit.collection.literals.add().scalar.primitive.integer = 3
    lit.collection.literals.add().scalar.primitive.float_value = 0.5
    assert engine.to_python(lit, list[float], ctx) == [3.0, 0.5]
    with pytest.raises(TypeTransformerError) as info:
        engine.to_python(lit, list[int], ctx)
    assert info.value.path.render() == "[1]"
    empty = engine.to_literal([], list[int], ctx)
    assert empty.HasField("collection")
    assert engine.to_python(empty, list[int], ctx) == []
