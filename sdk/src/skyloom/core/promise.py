"""Promises: references to node outputs inside a workflow body, and how they bind."""

from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING, Any

from skyloom._engine import compile_context, engine
from skyloom._errors import CompileError
from skyloom._source import caller_location
from skyloom.core._state import current_state
from skyloom.types.hints import type_name
from skyloom_idl.core import condition_pb2, literals_pb2, types_pb2

if TYPE_CHECKING:
    from skyloom.core.node import NodeBuilder

START_NODE = "start-node"


class Promise:
    """The future value of a node output (or workflow input) while a body is compiled."""

    __slots__ = ("attr_path", "label", "literal_type", "node", "node_id", "py_type", "var")

    def __init__(
        self,
        node_id: str,
        var: str,
        py_type: Any,
        *,
        node: NodeBuilder | None = None,
        label: str = "",
        attr_path: tuple[str | int, ...] = (),
    ) -> None:
        self.node_id = node_id
        self.var = var
        self.py_type = py_type
        self.node = node
        self.label = label or f"{node_id}.{var}"
        self.attr_path = attr_path
        self.literal_type = engine().literal_type(py_type)

    def __repr__(self) -> str:
        return f"Promise({self.label}: {type_name(self.py_type)})"

    def __hash__(self) -> int:
        return id(self)

    def ref(self) -> types_pb2.OutputReference:
        ref = types_pb2.OutputReference(node_id=self.node_id, var=self.var)
        for step in self.attr_path:
            if isinstance(step, int):
                ref.attr_path.add(int_value=step)
            else:
                ref.attr_path.add(string_value=step)
        return ref

    # attribute access on dataclass outputs, items of lists and dicts
    def __getattr__(self, name: str) -> Promise:
        if name.startswith("_"):
            raise AttributeError(name)
        t = self.py_type
        if not (dataclasses.is_dataclass(t) and isinstance(t, type)):
            raise _error(f"{self.label} is a {type_name(t)}, it has no '{name}'")
        hints = typing.get_type_hints(t)
        if name not in hints:
            raise _error(f"{self.label} ({t.__name__}) has no field '{name}'")
        return self._step(name, hints[name], f"{self.label}.{name}")

    def __getitem__(self, key: str | int) -> Promise:
        origin, args = typing.get_origin(self.py_type), typing.get_args(self.py_type)
        if origin is list and isinstance(key, int):
            return self._step(key, args[0], f"{self.label}[{key}]")
        if origin is dict and isinstance(key, str):
            return self._step(key, args[1], f"{self.label}[{key!r}]")
        raise _error(f"{self.label} ({type_name(self.py_type)}) cannot be indexed by {key!r}")

    def _step(self, step: str | int, t: Any, label: str) -> Promise:
        return Promise(
            self.node_id,
            self.var,
            t,
            node=self.node,
            label=label,
            attr_path=(*self.attr_path, step),
        )

    def __rshift__(self, other: Any) -> Any:
        return order(self, other)

    def with_overrides(self, **overrides: Any) -> Promise:
        """Override settings of the node that produces this promise."""
        if self.node is None:
            raise _error(f"{self.label} is a workflow input, not a node")
        self.node.with_overrides(**overrides)
        return self

    def __bool__(self) -> bool:
        raise _error(
            f"{self.label} is a promise, not a value: it has no truth value while the workflow "
            "is compiled; use conditional(...).if_(...) to branch on it"
        )

    def __iter__(self) -> typing.Iterator[Any]:
        raise _error(f"{self.label} is a promise; iterate over it in a task or use map_task")

    def __format__(self, spec: str) -> str:
        raise _error(
            f"{self.label} is a promise, not a value: it cannot be formatted into a string "
            "while the workflow is compiled; build the string in a task"
        )

    def _arithmetic(self, *_: object) -> Any:
        raise _error(
            f"{self.label} is a promise, not a value: Python operators do not apply to it "
            "while the workflow is compiled; compute in a task"
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arithmetic
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __pow__ = __neg__ = _arithmetic
    __len__ = __contains__ = _arithmetic

    # comparisons build conditions for conditional()
    def __eq__(self, other: object) -> Comparison:  # type: ignore[override]
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_EQ, other)

    def __ne__(self, other: object) -> Comparison:  # type: ignore[override]
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_NEQ, other)

    def __gt__(self, other: object) -> Comparison:
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_GT, other)

    def __ge__(self, other: object) -> Comparison:
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_GTE, other)

    def __lt__(self, other: object) -> Comparison:
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_LT, other)

    def __le__(self, other: object) -> Comparison:
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_LTE, other)

    def is_true(self) -> Comparison:
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_EQ, True)

    def is_false(self) -> Comparison:
        return Comparison(self, condition_pb2.ComparisonExpression.OPERATOR_EQ, False)


def _error(message: str) -> CompileError:
    location = caller_location()
    state = current_state()
    prefix = state.where(location) if state else location
    return CompileError(f"{prefix}: {message}", location=location)


class Expr:
    """A boolean condition over promises; combine with ``&`` and ``|``."""

    def promises(self) -> list[Promise]:
        raise NotImplementedError

    def to_proto(self, var_of: dict[int, str]) -> condition_pb2.BooleanExpression:
        raise NotImplementedError

    def __and__(self, other: Expr) -> Expr:
        return Conjunction(self, condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_AND, other)

    def __or__(self, other: Expr) -> Expr:
        return Conjunction(self, condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_OR, other)

    def __bool__(self) -> bool:
        raise _error("combine conditions with & and |, not 'and'/'or'")


class Comparison(Expr):
    def __init__(self, left: Promise, op: int, right: object) -> None:
        self.left, self.op, self.right = left, op, right

    def promises(self) -> list[Promise]:
        return [p for p in (self.left, self.right) if isinstance(p, Promise)]

    def to_proto(self, var_of: dict[int, str]) -> condition_pb2.BooleanExpression:
        return condition_pb2.BooleanExpression(
            comparison=condition_pb2.ComparisonExpression(
                operator=typing.cast(Any, self.op),
                left_value=_operand(self.left, var_of),
                right_value=_operand(self.right, var_of),
            )
        )


class Conjunction(Expr):
    def __init__(self, left: Expr, op: int, right: Expr) -> None:
        self.left, self.op, self.right = left, op, right

    def promises(self) -> list[Promise]:
        return [*self.left.promises(), *self.right.promises()]

    def to_proto(self, var_of: dict[int, str]) -> condition_pb2.BooleanExpression:
        return condition_pb2.BooleanExpression(
            conjunction=condition_pb2.ConjunctionExpression(
                operator=typing.cast(Any, self.op),
                left_expression=self.left.to_proto(var_of),
                right_expression=self.right.to_proto(var_of),
            )
        )


def _operand(value: object, var_of: dict[int, str]) -> condition_pb2.Operand:
    if isinstance(value, Promise):
        return condition_pb2.Operand(var=var_of[id(value)])
    lit = engine().to_literal(value, type(value), compile_context())
    if lit.scalar.HasField("primitive"):
        return condition_pb2.Operand(primitive=lit.scalar.primitive)
    return condition_pb2.Operand(scalar=lit.scalar)


def order(left: Any, right: Any) -> Any:
    """``left >> right``: right's node runs after left's node. Returns ``right``."""
    from skyloom.core.node import NodeBuilder

    def node_of(x: Any) -> NodeBuilder:
        if isinstance(x, NodeBuilder):
            return x
        if isinstance(x, Promise) and x.node is not None:
            return x.node
        if isinstance(x, tuple) and x and isinstance(x[0], Promise) and x[0].node is not None:
            return x[0].node
        raise _error(f"{x!r} is not a node output; '>>' orders nodes")

    downstream = node_of(right)
    upstream_id = node_of(left).proto.id
    if upstream_id not in downstream.proto.upstream_node_ids:
        downstream.proto.upstream_node_ids.append(upstream_id)
    return right


def literal_to_binding(lit: literals_pb2.Literal) -> literals_pb2.BindingData:
    """A constant literal as binding data."""
    kind = lit.WhichOneof("value")
    if kind == "collection":
        return literals_pb2.BindingData(
            collection=literals_pb2.BindingDataCollection(
                bindings=[literal_to_binding(x) for x in lit.collection.literals]
            )
        )
    if kind == "map":
        return literals_pb2.BindingData(
            map=literals_pb2.BindingDataMap(
                bindings={k: literal_to_binding(v) for k, v in lit.map.literals.items()}
            )
        )
    return literals_pb2.BindingData(scalar=lit.scalar)


def contains_promise(value: Any) -> bool:
    if isinstance(value, Promise):
        return True
    if isinstance(value, list | tuple):
        return any(contains_promise(v) for v in value)
    if isinstance(value, dict):
        return any(contains_promise(v) for v in value.values())
    return False
