"""Size accounting of inline literals, for the limits admin and propeller enforce.

Sizes are the protobuf wire size (``ByteSize``), which is what a blob or a gRPC message costs.
Depth counts nested collections, maps and unions: a bare scalar has depth 1.
"""

from __future__ import annotations

from skyloom_core.errors import Violation
from skyloom_idl.core import literals_pb2

DEFAULT_MAX_DEPTH = 64


def literal_map_size(literals: literals_pb2.LiteralMap) -> int:
    """Bytes of ``literals`` on the wire."""
    return literals.ByteSize()


def literal_depth(literal: literals_pb2.Literal) -> int:
    """How deeply ``literal`` nests (iterative, so absurd depths cannot overflow the stack)."""
    deepest = 0
    stack: list[tuple[literals_pb2.Literal, int]] = [(literal, 1)]
    while stack:
        lit, depth = stack.pop()
        deepest = max(deepest, depth)
        kind = lit.WhichOneof("value")
        if kind == "collection":
            stack.extend((x, depth + 1) for x in lit.collection.literals)
        elif kind == "map":
            stack.extend((x, depth + 1) for x in lit.map.literals.values())
        elif kind == "scalar" and lit.scalar.WhichOneof("value") == "union":
            stack.append((lit.scalar.union.value, depth + 1))
    return deepest


def _human(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def check_literal_limits(
    literals: literals_pb2.LiteralMap,
    *,
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    path: str = "inputs",
) -> list[Violation]:
    """Violations for a map over ``max_bytes`` in total, or any value nested past ``max_depth``."""
    out: list[Violation] = []
    size = literal_map_size(literals)
    if size > max_bytes:
        msg = (
            f"inline literals are {_human(size)} ({size} bytes), "
            f"over the limit of {_human(max_bytes)} ({max_bytes} bytes)"
        )
        out.append(Violation(path, msg, "LiteralTooLarge"))
    for name in sorted(literals.literals):
        depth = literal_depth(literals.literals[name])
        if depth > max_depth:
            msg = f"value nests {depth} levels deep, over the limit of {max_depth}"
            out.append(Violation(f"{path}.{name}", msg, "LiteralTooDeep"))
    return out
