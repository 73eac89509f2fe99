"""Graph analysis of a workflow's nodes: cycles (with their path), unreachable nodes, and a
stable topological order. Iterative throughout, so deep graphs cannot hit the recursion limit.

``deps`` maps each node to its upstream nodes, each with the field path of the first reference
that created the edge (``nodes[3].upstream_node_ids[0]``), so errors point at that reference.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skyloom_idl.core import compiler_pb2

START_NODE = "start-node"
END_NODE = "end-node"


@dataclass(frozen=True, slots=True)
class Cycle:
    """A cycle ``path[0] -> path[1] -> ... -> path[0]`` (data flows along the arrows);
    reported at ``path[0]``'s reference to ``path[-1]``, whose field path is ``field_path``."""

    path: tuple[str, ...]
    field_path: str


@dataclass(frozen=True, slots=True)
class GraphReport:
    order: tuple[str, ...]
    cycles: tuple[Cycle, ...]
    unreachable: tuple[str, ...]


def analyze(nodes: Sequence[str], deps: Mapping[str, Mapping[str, str]]) -> GraphReport:
    """Order ``nodes`` (declaration order breaks ties); find cycles and what they block."""
    rank = {n: i for i, n in enumerate(nodes)}
    down: dict[str, list[str]] = {n: [] for n in nodes}
    indegree = dict.fromkeys(nodes, 0)
    for n in nodes:
        for up in deps.get(n, {}):
            if up in down:
                down[up].append(n)
                indegree[n] += 1
    heap = [rank[n] for n in nodes if indegree[n] == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        n = nodes[heapq.heappop(heap)]
        order.append(n)
        for d in down[n]:
            indegree[d] -= 1
            if indegree[d] == 0:
                heapq.heappush(heap, rank[d])
    if len(order) == len(nodes):
        return GraphReport(tuple(order), (), ())
    rest = [n for n in nodes if n not in set(order)]
    sccs = _strongly_connected(rest, down)
    cycles: list[Cycle] = []
    on_cycle: set[str] = set()
    for comp in sccs:
        members = set(comp)
        first = min(comp, key=rank.__getitem__)
        if len(comp) == 1 and first not in deps.get(first, {}):
            continue
        on_cycle |= members
        path = _cycle_from(first, down, members, rank)
        cycles.append(Cycle(tuple(path), deps[first][path[-1]]))
    cycles.sort(key=lambda c: rank[c.path[0]])
    unreachable = tuple(n for n in rest if n not in on_cycle)
    return GraphReport(tuple(order), tuple(cycles), unreachable)


def _cycle_from(
    start: str, down: Mapping[str, list[str]], members: set[str], rank: Mapping[str, int]
) -> list[str]:
    """The shortest cycle through ``start`` inside one strongly connected component."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for n in frontier:
            for d in sorted(down[n], key=rank.__getitem__):
                if d == start:
                    path = [n]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                if d in members and d not in parent:
                    parent[d] = n
                    nxt.append(d)
        frontier = nxt
    return [start]  # pragma: no cover - every member of a cyclic component lies on a cycle


def _strongly_connected(nodes: Sequence[str], down: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative, restricted to ``nodes``."""
    allowed = set(nodes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter([d for d in down[root] if d in allowed]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter([d for d in down[child] if d in allowed])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                out.append(comp)
    return out


def connection_set(
    order: Sequence[str], deps: Mapping[str, Mapping[str, str]], end_deps: Mapping[str, str]
) -> compiler_pb2.ConnectionSet:
    """Edges both ways. Nodes with no upstream hang off ``start-node``; ``end-node`` waits for
    the nodes the outputs use and for every leaf, so the workflow ends when everything has."""
    rank = {START_NODE: -1, **{n: i for i, n in enumerate(order)}}
    upstream: dict[str, list[str]] = {}
    for n in order:
        ups = sorted(deps.get(n, {}), key=lambda u: rank.get(u, len(order)))
        upstream[n] = ups or [START_NODE]
    has_down = {u for ups in upstream.values() for u in ups}
    end = set(end_deps) | {n for n in order if n not in has_down}
    upstream[END_NODE] = sorted(end, key=lambda u: rank.get(u, len(order))) or [START_NODE]
    conns = compiler_pb2.ConnectionSet()
    for n, ups in upstream.items():
        conns.upstream[n].ids.extend(ups)
        for u in ups:
            conns.downstream[u].ids.append(n)
    return conns
