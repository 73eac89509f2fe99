"""Property tests: random DAGs compile, and their order respects every edge."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyloom_core import build as t
from skyloom_core import build_graph as g
from skyloom_core.compiler import CompilationFailed, compile_workflow
from skyloom_core.refs import id_key
from skyloom_idl.core import literals_pb2, workflow_pb2

FOLD = g.task_template("fold", {"xs": t.list_type(t.INT)}, {"o0": t.INT})
TASKS = {id_key(FOLD.id): FOLD}


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], dict[str, set[str]], list[workflow_pb2.Node]]:
    """Nodes named in a random topological order, each depending on random earlier nodes
    through promises or upstream ids; declared in a random (shuffled) order."""
    n = draw(st.integers(1, 25))
    names = [f"n{i}" for i in draw(st.permutations(range(n)))]
    deps: dict[str, set[str]] = {}
    nodes = []
    for i, name in enumerate(names):
        chosen = draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else []
        via_promise = [c for c in chosen if draw(st.booleans())]
        after = tuple(c for c in chosen if c not in via_promise)
        xs = literals_pb2.BindingData(
            collection=literals_pb2.BindingDataCollection(
                bindings=[g.binding_data(g.promise(c, "o0")) for c in via_promise]
            )
        )
        node = g.task_node(name, FOLD, {"xs": xs}, after=after)
        nodes.append(node)
        deps[name] = set(chosen)
    order = draw(st.permutations(range(n)))
    return names, deps, [nodes[i] for i in order]


@settings(max_examples=150, deadline=None)
@given(dags())
def test_random_dags_compile_in_an_order_respecting_every_edge(
    dag: tuple[list[str], dict[str, set[str]], list[workflow_pb2.Node]],
) -> None:
    names, deps, nodes = dag
    compiled = compile_workflow(g.workflow_template("wf", nodes), tasks=TASKS).primary
    order = list(compiled.topological_order)
    assert order[0] == "start-node"
    assert order[-1] == "end-node"
    assert sorted(order[1:-1]) == sorted(names)
    position = {n: i for i, n in enumerate(order)}
    for node, ups in deps.items():
        assert set(compiled.connections.upstream[node].ids) == (ups or {"start-node"})
        for up in ups:
            assert position[up] < position[node]
            assert node in compiled.connections.downstream[up].ids


@settings(max_examples=100, deadline=None)
@given(dags(), st.data())
def test_a_back_edge_is_always_reported_as_a_cycle(
    dag: tuple[list[str], dict[str, set[str]], list[workflow_pb2.Node]], data: st.DataObject
) -> None:
    _names, deps, nodes = dag
    edges = [(n, u) for n, ups in deps.items() for u in ups]
    if not edges:
        return
    node, up = data.draw(st.sampled_from(edges))
    target = next(x for x in nodes if x.id == up)
    target.upstream_node_ids.append(node)  # up now also waits for node: a cycle
    with pytest.raises(CompilationFailed) as info:
        compile_workflow(g.workflow_template("wf", nodes), tasks=TASKS)
    e = info.value
    cycles = [x for x in e.errors if x.code == "CycleDetected"]
    assert cycles
    path = cycles[0].message.removeprefix("cycle detected: ").split(" -> ")
    assert path[0] == path[-1]
    for a, b in itertools.pairwise(path):
        assert a in deps[b] or (a, b) == (node, up)
