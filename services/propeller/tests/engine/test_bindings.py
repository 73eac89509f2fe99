"""Binding resolution and branch conditions: pure functions over literals."""

from __future__ import annotations

import datetime as dt

import pytest
from google.protobuf import struct_pb2

from skyloom_idl.core import condition_pb2, literals_pb2, types_pb2
from skyloom_propeller.bindings import BindingError, NotReady, resolve, resolve_bindings
from skyloom_propeller.conditions import ConditionError, evaluate

from ._build import INT, const, int_list, ints, list_of


def _promise(node: str, var: str, *path: str | int) -> literals_pb2.BindingData:
    ref = types_pb2.OutputReference(node_id=node, var=var)
    for step in path:
        if isinstance(step, int):
            ref.attr_path.add(int_value=step)
        else:
            ref.attr_path.add(string_value=step)
    return literals_pb2.BindingData(promise=ref)


def _record() -> literals_pb2.Literal:
    s = struct_pb2.Struct()
    s.update({"lr": 0.5, "layers": [{"width": 64}, {"width": 128}], "name": "net"})
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=s))


STORE = {
    "a": ints(o0=7),
    "cfg": literals_pb2.LiteralMap(literals={"o0": _record()}),
    "xs": literals_pb2.LiteralMap(literals={"o0": int_list([10, 20, 30])}),
}


def lookup(node: str) -> literals_pb2.LiteralMap | None:
    return STORE.get(node)


def test_constants_promises_collections_and_maps() -> None:
    data = literals_pb2.BindingData(
        collection=literals_pb2.BindingDataCollection(bindings=[const(1), _promise("a", "o0")])
    )
    assert [x.scalar.primitive.integer for x in resolve(data, lookup).collection.literals] == [1, 7]
    m = literals_pb2.BindingData(
        map=literals_pb2.BindingDataMap(bindings={"k": _promise("a", "o0"), "j": const(2)})
    )
    got = resolve(m, lookup).map.literals
    assert (got["k"].scalar.primitive.integer, got["j"].scalar.primitive.integer) == (7, 2)


def test_attribute_paths_into_records_and_lists() -> None:
    width = resolve(_promise("cfg", "o0", "layers", 1, "width"), lookup, INT)
    assert width.scalar.primitive.integer == 128  # a JSON number typed back to int
    lr = resolve(_promise("cfg", "o0", "lr"), lookup)
    assert lr.scalar.primitive.float_value == 0.5
    assert resolve(_promise("xs", "o0", -1), lookup).scalar.primitive.integer == 30
    layers = resolve(_promise("cfg", "o0", "layers"), lookup, list_of(types_pb2.LiteralType()))
    assert len(layers.collection.literals) == 2


def test_union_binding_carries_the_target_type() -> None:
    target = types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_INTEGER)
    data = literals_pb2.BindingData(
        union=literals_pb2.UnionInfo(target_type=target, value=const(3))
    )
    lit = resolve(data, lookup)
    assert lit.scalar.union.type == target
    assert lit.scalar.union.value.scalar.primitive.integer == 3


def test_not_ready_names_the_node() -> None:
    with pytest.raises(NotReady) as err:
        resolve_bindings([literals_pb2.Binding(var="x", binding=_promise("later", "o0"))], lookup)
    assert err.value.node_id == "later"


@pytest.mark.parametrize(
    ("binding", "message"),
    [
        (_promise("a", "nope"), "produced no output 'nope'"),
        (_promise("xs", "o0", 9), "has no index 9"),
        (_promise("cfg", "o0", "missing"), "has no field 'missing'"),
        (_promise("a", "o0", "field"), "is not a list, map or record"),
    ],
)
def test_spec_errors_are_binding_errors(binding: literals_pb2.BindingData, message: str) -> None:
    with pytest.raises(BindingError, match=message):
        resolve(binding, lookup)


def _cmp(
    op: int, left: condition_pb2.Operand, right: condition_pb2.Operand
) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=op, left_value=left, right_value=right
        )  # type: ignore[arg-type]
    )


def _var(name: str) -> condition_pb2.Operand:
    return condition_pb2.Operand(var=name)


def _int(v: int) -> condition_pb2.Operand:
    return condition_pb2.Operand(primitive=literals_pb2.Primitive(integer=v))


OP = condition_pb2.ComparisonExpression
AND = condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_AND
OR = condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_OR


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [(OP.OPERATOR_EQ, 5, True), (OP.OPERATOR_NEQ, 5, False), (OP.OPERATOR_GT, 4, True),
     (OP.OPERATOR_GTE, 6, False), (OP.OPERATOR_LT, 6, True), (OP.OPERATOR_LTE, 4, False)],
)  # fmt: skip
def test_comparisons(op: int, value: int, expected: bool) -> None:
    assert evaluate(_cmp(op, _var("x"), _int(value)), ints(x=5)) is expected


def test_conjunctions_short_circuit() -> None:
    true = _cmp(OP.OPERATOR_EQ, _int(1), _int(1))
    broken = _cmp(OP.OPERATOR_EQ, _var("missing"), _int(1))

    def conj(
        op: int, a: condition_pb2.BooleanExpression, b: condition_pb2.BooleanExpression
    ) -> condition_pb2.BooleanExpression:
        return condition_pb2.BooleanExpression(
            conjunction=condition_pb2.ConjunctionExpression(
                operator=op, left_expression=a, right_expression=b
            )  # type: ignore[arg-type]
        )

    assert evaluate(conj(OR, true, broken), ints())
    with pytest.raises(ConditionError, match="no input 'missing'"):
        evaluate(conj(AND, true, broken), ints())


def test_datetimes_and_incomparable_values() -> None:
    inputs = literals_pb2.LiteralMap()
    inputs.literals["t"].scalar.primitive.datetime.FromDatetime(dt.datetime(2026, 1, 2))
    later = literals_pb2.Primitive()
    later.datetime.FromDatetime(dt.datetime(2026, 1, 3))
    assert evaluate(_cmp(OP.OPERATOR_LT, _var("t"), condition_pb2.Operand(primitive=later)), inputs)
    inputs.literals["s"].scalar.primitive.string_value = "a"
    with pytest.raises(ConditionError, match="cannot compare"):
        evaluate(_cmp(OP.OPERATOR_LT, _var("s"), _int(1)), inputs)
