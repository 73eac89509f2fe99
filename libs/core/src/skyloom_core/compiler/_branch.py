"""Branch nodes: conditions, the interface a branch exposes, and the checks between its cases.

A branch's outputs are those of its first case's ``then_node``; every other case (and the else
node) must produce each of them with a castable type, or the branch fails to compile with
MismatchingBranchOutputs. An ``else`` that is an error produces nothing and is always fine.
Operands of conditions name the branch's own inputs (the branch node's bindings).
"""

from __future__ import annotations

from collections.abc import Callable

from skyloom_core.compiler._context import Interface, Location, Sink, VarTypes, display_name
from skyloom_core.compiler.codes import ErrorCode
from skyloom_core.types import is_castable, type_name
from skyloom_core.validation import scalar_type_of
from skyloom_idl.core import condition_pb2, literals_pb2, types_pb2, workflow_pb2

InnerNode = tuple[workflow_pb2.Node, str, Location]
InterfaceOf = Callable[[workflow_pb2.Node, str, Location], Interface | None]
_NUMERIC = {types_pb2.SimpleType.SIMPLE_TYPE_INTEGER, types_pb2.SimpleType.SIMPLE_TYPE_FLOAT}


def inner_nodes(node: workflow_pb2.Node, path: str, sink: Sink, loc: Location) -> list[InnerNode]:
    """The then/else nodes of a branch, each with its path; reports structural problems."""
    ie = node.branch_node.if_else
    base = f"{path}.branch_node.if_else"
    blocks: list[tuple[workflow_pb2.IfBlock, str]] = []
    if ie.HasField("case"):
        blocks.append((ie.case, f"{base}.case"))
    else:
        sink.at(
            loc,
            ErrorCode.BRANCH_NODE_HAS_NO_CONDITION,
            f"{loc.display} is a branch with no if case",
            f"{base}.case",
        )
    blocks += [(block, f"{base}.other[{k}]") for k, block in enumerate(ie.other)]
    out: list[InnerNode] = []
    for block, p in blocks:
        if block.condition.WhichOneof("expr") is None:
            sink.at(
                loc,
                ErrorCode.BRANCH_NODE_HAS_NO_CONDITION,
                f"a case of branch {loc.display} has no condition",
                f"{p}.condition",
            )
        if block.HasField("then_node"):
            out.append(_inner(block.then_node, f"{p}.then_node", loc))
        else:
            sink.at(
                loc,
                ErrorCode.NODE_HAS_NO_TARGET,
                f"a case of branch {loc.display} has no node to run",
                f"{p}.then_node",
            )
    default = ie.WhichOneof("default")
    if default is None:
        msg = f"branch {loc.display} has no else: add an else node or an else error"
        sink.at(loc, ErrorCode.BRANCH_NODE_HAS_NO_DEFAULT, msg, base)
    elif default == "else_node":
        out.append(_inner(ie.else_node, f"{base}.else_node", loc))
    return out


def _inner(node: workflow_pb2.Node, path: str, outer: Location) -> InnerNode:
    source = node.metadata.source_location or outer.source_location
    return node, path, Location(node.id, path, display_name(node), source)


def branch_outputs(
    cases: list[tuple[InnerNode, Interface | None]], sink: Sink, loc: Location
) -> VarTypes:
    """The outputs of the branch: the first case's, checked against every other case's."""
    if not cases or cases[0][1] is None:
        return {}
    declared = cases[0][1].outputs
    for (inner, path, _), iface in cases[1:]:
        if iface is None:
            continue
        for var, want in declared.items():
            if var not in iface.outputs:
                msg = (
                    f"every case of branch {loc.display} must produce output '{var}' like "
                    f"its first case; {display_name(inner)} does not"
                )
                sink.at(loc, ErrorCode.MISMATCHING_BRANCH_OUTPUTS, msg, path)
                continue
            have = iface.outputs[var]
            if want is not None and have is not None and not is_castable(have, want):
                msg = (
                    f"output '{var}' of branch {loc.display} is {type_name(want)} in its "
                    f"first case but {type_name(have)} from {display_name(inner)}"
                )
                sink.at(loc, ErrorCode.MISMATCHING_BRANCH_OUTPUTS, msg, path)
    return dict(declared)


def check_conditions(
    node: workflow_pb2.Node, path: str, inputs: VarTypes, sink: Sink, loc: Location
) -> None:
    """Every operand names a branch input, and compared operands have comparable types."""
    ie = node.branch_node.if_else
    base = f"{path}.branch_node.if_else"
    blocks = [(ie.case, f"{base}.case")] if ie.HasField("case") else []
    blocks += [(b, f"{base}.other[{k}]") for k, b in enumerate(ie.other)]
    for block, p in blocks:
        stack = [(block.condition, f"{p}.condition")]
        while stack:
            expr, ep = stack.pop()
            kind = expr.WhichOneof("expr")
            if kind == "conjunction":
                c = expr.conjunction
                if c.operator == condition_pb2.ConjunctionExpression.LOGICAL_OPERATOR_UNSPECIFIED:
                    sink.at(
                        loc,
                        ErrorCode.INVALID_CONDITION,
                        f"a condition of branch {loc.display} has no and/or operator",
                        f"{ep}.conjunction.operator",
                    )
                stack.append((c.left_expression, f"{ep}.conjunction.left_expression"))
                stack.append((c.right_expression, f"{ep}.conjunction.right_expression"))
            elif kind == "comparison":
                _check_comparison(expr.comparison, f"{ep}.comparison", inputs, sink, loc)


def _check_comparison(
    cmp: condition_pb2.ComparisonExpression, path: str, inputs: VarTypes, sink: Sink, loc: Location
) -> None:
    if cmp.operator == condition_pb2.ComparisonExpression.OPERATOR_UNSPECIFIED:
        sink.at(
            loc,
            ErrorCode.INVALID_CONDITION,
            f"a comparison of branch {loc.display} has no operator",
            f"{path}.operator",
        )
    types: list[types_pb2.LiteralType | None] = []
    for side in ("left_value", "right_value"):
        operand: condition_pb2.Operand = getattr(cmp, side)
        kind = operand.WhichOneof("val")
        if kind == "var":
            if operand.var not in inputs:
                have = ", ".join(sorted(inputs)) or "none"
                msg = (
                    f"a condition of branch {loc.display} uses '{operand.var}', "
                    f"which is not one of its inputs ({have})"
                )
                sink.at(loc, ErrorCode.UNKNOWN_INPUT, msg, f"{path}.{side}.var")
                types.append(None)
            else:
                types.append(inputs[operand.var])
        elif kind == "primitive":
            types.append(scalar_type_of(literals_pb2.Scalar(primitive=operand.primitive)))
        elif kind == "scalar":
            types.append(scalar_type_of(operand.scalar))
        else:
            sink.at(
                loc,
                ErrorCode.INVALID_CONDITION,
                f"a comparison of branch {loc.display} has an empty operand",
                f"{path}.{side}",
            )
            types.append(None)
    left, right = types
    if left is not None and right is not None and not _comparable(left, right):
        msg = f"branch {loc.display} compares {type_name(left)} with {type_name(right)}"
        sink.at(loc, ErrorCode.MISMATCHING_TYPES, msg, path)


def _comparable(a: types_pb2.LiteralType, b: types_pb2.LiteralType) -> bool:
    if is_castable(a, b) or is_castable(b, a):
        return True
    simple = a.WhichOneof("type") == "simple" and b.WhichOneof("type") == "simple"
    return simple and a.simple in _NUMERIC and b.simple in _NUMERIC
