"""Branch conditions: ``BooleanExpression`` over a branch node's resolved inputs, pure.

Operands are primitives (int, float, str, bool, datetime, duration), ``None`` or enum values,
possibly inside a union. Comparing values that Python cannot order (``"a" < 1``) raises
``ConditionError``, which fails the branch node as a USER error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from skyloom_idl.core import condition_pb2, literals_pb2

_CMP = condition_pb2.ComparisonExpression
_OPS: dict[int, Callable[[Any, Any], Any]] = {
    _CMP.OPERATOR_EQ: operator.eq,
    _CMP.OPERATOR_NEQ: operator.ne,
    _CMP.OPERATOR_GT: operator.gt,
    _CMP.OPERATOR_GTE: operator.ge,
    _CMP.OPERATOR_LT: operator.lt,
    _CMP.OPERATOR_LTE: operator.le,
}


class ConditionError(Exception):
    """A condition cannot be evaluated on these inputs."""


def evaluate(expr: condition_pb2.BooleanExpression, inputs: literals_pb2.LiteralMap) -> bool:
    """Whether ``expr`` holds for ``inputs`` (AND/OR short-circuit left to right)."""
    if expr.HasField("conjunction"):
        c = expr.conjunction
        left = evaluate(c.left_expression, inputs)
        if c.operator == condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_AND:
            return left and evaluate(c.right_expression, inputs)
        if c.operator == condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_OR:
            return left or evaluate(c.right_expression, inputs)
        raise ConditionError("conjunction has no operator")
    if not expr.HasField("comparison"):
        raise ConditionError("empty boolean expression")
    cmp = expr.comparison
    op = _OPS.get(cmp.operator)
    if op is None:
        raise ConditionError("comparison has no operator")
    a, b = _operand(cmp.left_value, inputs), _operand(cmp.right_value, inputs)
    try:
        return bool(op(a, b))
    except TypeError as err:
        raise ConditionError(f"cannot compare {a!r} with {b!r}") from err


def _operand(op: condition_pb2.Operand, inputs: literals_pb2.LiteralMap) -> object:
    kind = op.WhichOneof("val")
    if kind == "primitive":
        return _primitive(op.primitive)
    if kind == "scalar":
        return _scalar(op.scalar)
    if kind == "var":
        if op.var not in inputs.literals:
            raise ConditionError(f"the branch has no input '{op.var}'")
        lit = inputs.literals[op.var]
        if not lit.HasField("scalar"):
            raise ConditionError(f"input '{op.var}' is not a scalar")
        return _scalar(lit.scalar)
    raise ConditionError("operand has no value")


def _scalar(s: literals_pb2.Scalar) -> object:
    kind = s.WhichOneof("value")
    if kind == "primitive":
        return _primitive(s.primitive)
    if kind == "none_type":
        return None
    if kind == "enum_value":
        return s.enum_value
    if kind == "union" and s.union.value.HasField("scalar"):
        return _scalar(s.union.value.scalar)
    raise ConditionError(f"cannot compare a {kind} value")


def _primitive(p: literals_pb2.Primitive) -> object:
    kind = p.WhichOneof("value")
    if kind == "datetime":
        return p.datetime.ToDatetime()
    if kind == "duration":
        return p.duration.ToTimedelta()
    if kind is None:
        return None
    return getattr(p, kind)
