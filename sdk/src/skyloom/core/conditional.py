"""``conditional(name).if_(...).then(...).elif_(...).then(...).else_().then(...)`` / ``.fail()``."""

from __future__ import annotations

from typing import Any

from skyloom._engine import engine
from skyloom._errors import CompileError
from skyloom._source import caller_location
from skyloom.core._state import CompileState, current_state
from skyloom.core.node import NodeBuilder
from skyloom.core.promise import Comparison, Expr, Promise
from skyloom.types.hints import type_name
from skyloom_core.types import is_castable
from skyloom_idl.core import literals_pb2, workflow_pb2


class _Branch:
    def __init__(self, name: str, kind: str, entity: Any = None) -> None:
        self.name = name
        self.kind = kind
        self.output_tuple = getattr(entity, "output_tuple", None)


class Conditional:
    """Builds a branch node; each ``then`` takes one task, workflow or launch plan call."""

    def __init__(self, name: str) -> None:
        self.location = caller_location()
        state = current_state()
        if state is None:
            raise CompileError(
                f"conditional('{name}') ({self.location}) is only valid in a workflow body",
                location=self.location,
            )
        self.state: CompileState = state
        self.name = name
        self.cases: list[tuple[Expr, NodeBuilder]] = []
        self._pending: Expr | None = None

    def _error(self, message: str, code: str = "BranchNodeInvalid") -> CompileError:
        loc = caller_location()
        return CompileError(
            f"{self.state.where(loc)}: conditional '{self.name}': {message}",
            location=loc,
            code=code,
        )

    def if_(self, condition: Expr | Promise) -> Conditional:
        if self.cases or self._pending is not None:
            raise self._error("if_() comes first and only once; use elif_()")
        return self._expect(condition)

    def elif_(self, condition: Expr | Promise) -> Conditional:
        if not self.cases:
            raise self._error("elif_() needs an if_(...).then(...) before it")
        return self._expect(condition)

    def _expect(self, condition: Expr | Promise) -> Conditional:
        if self._pending is not None:
            raise self._error("each condition needs a .then(...)")
        if isinstance(condition, Promise):
            condition = condition.is_true()
        if not isinstance(condition, Expr):
            raise self._error(
                f"a condition must compare promises (p == 3, p > q, (a < 1) & b.is_true()), "
                f"got {condition!r}",
                code="BranchNodeHasNoCondition",
            )
        for cmp in _comparisons(condition):
            self._check(cmp)
        self._pending = condition
        return self

    def _check(self, cmp: Comparison) -> None:
        right_type = cmp.right.py_type if isinstance(cmp.right, Promise) else type(cmp.right)
        left, right = cmp.left.literal_type, engine().literal_type(right_type)
        if not (is_castable(left, right) or is_castable(right, left)):
            raise self._error(
                f"cannot compare {cmp.left.label} ({type_name(cmp.left.py_type)}) with "
                f"{cmp.right!r} ({type_name(right_type)})",
                code="MismatchingTypes",
            )

    def then(self, result: Any) -> Conditional:
        if self._pending is None:
            raise self._error("then() must follow if_(), elif_() or else_()")
        node = self._take(result)
        self.cases.append((self._pending, node))
        self._pending = None
        return self

    def else_(self) -> _Else:
        if self._pending is not None or not self.cases:
            raise self._error("else_() must follow a complete if_(...).then(...)")
        return _Else(self)

    def _take(self, result: Any) -> NodeBuilder:
        node = result if isinstance(result, NodeBuilder) else None
        if isinstance(result, Promise):
            node = result.node
        elif isinstance(result, tuple) and result and isinstance(result[0], Promise):
            node = result[0].node
        if node is None or not self.state.nodes or self.state.nodes[-1] is not node:
            raise self._error("then() takes the call of a task, workflow or launch plan")
        self.state.nodes.pop()
        return node

    def _finish(self, else_node: NodeBuilder | None, error: str | None) -> Any:
        nodes = [n for _, n in self.cases] + ([else_node] if else_node else [])
        first = nodes[0]
        for other in nodes[1:]:
            if _signature(other) != _signature(first):
                raise self._error(
                    f"branches must have the same outputs: {first.proto.metadata.name} has "
                    f"{_describe(first)}, {other.proto.metadata.name} has {_describe(other)}",
                    code="MismatchingInterfaces",
                )
        proto = workflow_pb2.Node(
            id=self.state.next_id(),
            metadata=workflow_pb2.NodeMetadata(name=self.name, source_location=self.location),
        )
        var_of: dict[int, str] = {}
        for expr, _ in self.cases:
            for p in expr.promises():
                if id(p) not in var_of:
                    var = f"c{len(var_of)}"
                    var_of[id(p)] = var
                    proto.inputs.append(
                        literals_pb2.Binding(
                            var=var, binding=literals_pb2.BindingData(promise=p.ref())
                        )
                    )
        ie = proto.branch_node.if_else
        (expr0, node0), *rest = self.cases
        ie.case.condition.CopyFrom(expr0.to_proto(var_of))
        ie.case.then_node.CopyFrom(node0.proto)
        for expr, node in rest:
            ie.other.add(condition=expr.to_proto(var_of), then_node=node.proto)
        if else_node is not None:
            ie.else_node.CopyFrom(else_node.proto)
        else:
            ie.error.message = error or ""
            ie.error.failed_node_id = proto.id
        builder = NodeBuilder(
            proto, _Branch(self.name, "branch", first.entity), dict(first.output_types)
        )
        builder.inner = nodes
        self.state.nodes.append(builder)
        return builder.outputs()


class _Else:
    def __init__(self, cond: Conditional) -> None:
        self.cond = cond

    def then(self, result: Any) -> Any:
        node = self.cond._take(result)
        self.cond._pending = None
        return self.cond._finish(node, None)

    def fail(self, message: str) -> Any:
        self.cond._pending = None
        return self.cond._finish(None, message)


def _comparisons(expr: Expr) -> list[Comparison]:
    if isinstance(expr, Comparison):
        return [expr]
    return [*_comparisons(expr.left), *_comparisons(expr.right)]  # type: ignore[attr-defined]


def _signature(node: NodeBuilder) -> list[tuple[str, str]]:
    return [(k, type_name(t)) for k, t in node.output_types.items()]


def _describe(node: NodeBuilder) -> str:
    sig = _signature(node)
    return ", ".join(f"{k}: {t}" for k, t in sig) if sig else "no outputs"


def conditional(name: str) -> Conditional:
    """Start a branch in a workflow body."""
    return Conditional(name)
