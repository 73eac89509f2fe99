"""A compiled body: the nodes, the entities they refer to and their Python types."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from skyloom._engine import engine
from skyloom._errors import CompileError
from skyloom.core._state import CompileState
from skyloom.core.node import NodeBuilder, bind_value
from skyloom.core.promise import Promise
from skyloom_idl.core import compiler_pb2, workflow_pb2


@dataclass
class Graph:
    """What the local executor runs: a compiled workflow plus Python-side type information."""

    compiled: compiler_pb2.CompiledWorkflow
    # entity name -> task / workflow / launch plan object, transitively
    entities: dict[str, Any] = field(default_factory=dict)
    # node id -> output var -> Python type (branch and array sub-nodes included)
    output_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    # array node id -> the inputs split element-wise (the others are fixed by a partial)
    mapped_inputs: dict[str, frozenset[str]] = field(default_factory=dict)
    closure: compiler_pb2.CompiledWorkflowClosure | None = None

    @property
    def template(self) -> workflow_pb2.WorkflowTemplate:
        return self.compiled.template

    def nodes(self) -> dict[str, workflow_pb2.Node]:
        return {n.id: n for n in self.compiled.template.nodes}

    @functools.cached_property
    def schedule(self) -> Schedule:
        """The nodes as the local scheduler walks them (computed on first run, then kept)."""
        nodes = self.nodes()
        ups = self.compiled.connections.upstream
        upstream = {nid: frozenset(ups[nid].ids) if nid in ups else frozenset() for nid in nodes}
        order = [n for n in self.compiled.topological_order if n in nodes] or list(nodes)
        downstream: dict[str, list[str]] = {nid: [] for nid in nodes}
        downstream["start-node"] = []
        for nid in order:
            for up in upstream[nid]:
                downstream.setdefault(up, []).append(nid)
        return Schedule(
            nodes=nodes,
            order=order,
            waiting={nid: len(upstream[nid] - {"start-node"}) for nid in order},
            downstream={k: tuple(v) for k, v in downstream.items()},
        )


@dataclass(frozen=True)
class Schedule:
    """A graph's nodes in topological ``order``; a node is ready when the ``waiting`` count
    of its upstream nodes has gone to zero, each success counting down its ``downstream``."""

    nodes: dict[str, workflow_pb2.Node]
    order: list[str]
    waiting: dict[str, int]
    downstream: dict[str, tuple[str, ...]]


def collect(state: CompileState, graph: Graph) -> None:
    """Record output types, source locations and mapped inputs of every traced node."""

    def visit(n: NodeBuilder) -> None:
        graph.output_types[n.proto.id] = n.output_types
        graph.locations[n.proto.id] = n.proto.metadata.source_location
        if n.mapped_inputs:
            graph.mapped_inputs[n.proto.id] = n.mapped_inputs
        for sub in n.inner:
            visit(sub)

    for n in state.nodes:
        visit(n)


def transitive_entities(direct: dict[str, Any]) -> dict[str, Any]:
    """Entities and, for subworkflows and launch plans, everything they refer to."""
    out: dict[str, Any] = {}
    stack = list(direct.items())
    while stack:
        name, ent = stack.pop()
        if name in out:
            continue
        out[name] = ent
        graph = getattr(ent, "graph", None)
        if isinstance(graph, Graph):
            stack.extend(graph.entities.items())
        inner = getattr(ent, "workflow", None)
        if inner is not None and hasattr(inner, "graph"):
            stack.append((inner.name, inner))
    return out


def output_bindings(
    result: Any, outputs: dict[str, Any], state: CompileState, location: str, owner: str
) -> list[Any]:
    """Bindings of a body's return value to the declared outputs."""
    from skyloom_idl.core import literals_pb2

    where = state.where(location)
    names = list(outputs)
    if not names:
        if result is not None and not isinstance(result, NodeBuilder):
            raise CompileError(
                f"{where}: {owner} declares no outputs but returns {result!r}; add a return type",
                location=location,
                code="MismatchingInterfaces",
            )
        return []
    if len(names) == 1:
        values = [result]
    elif isinstance(result, tuple) and len(result) == len(names):
        values = list(result)
    else:
        got = len(result) if isinstance(result, tuple) else 1
        raise CompileError(
            f"{where}: {owner} declares {len(names)} outputs ({', '.join(names)}) "
            f"but returns {got} value(s)",
            location=location,
            code="MismatchingInterfaces",
        )
    bindings = []
    for name, value in zip(names, values, strict=True):
        if value is None:
            raise CompileError(
                f"{where}: output '{name}' of {owner} is not returned",
                location=location,
                code="ParameterNotBound",
            )
        data = bind_value(value, outputs[name], f"output '{name}' of {owner}", where, location)
        bindings.append(literals_pb2.Binding(var=name, binding=data))
    return bindings


def input_promises(inputs: dict[str, Any]) -> dict[str, Promise]:
    return {
        name: Promise("start-node", name, t, label=f"input '{name}'") for name, t in inputs.items()
    }


def build_graph(
    template: workflow_pb2.WorkflowTemplate,
    state: CompileState,
    inputs: dict[str, Any],
    *,
    dynamic: bool = False,
) -> Graph:
    """Validate ``template`` with the compiler and keep what local execution needs."""
    from skyloom.core.compiler import compile_closure

    graph = Graph(compiler_pb2.CompiledWorkflow(template=template))
    collect(state, graph)
    graph.output_types["start-node"] = dict(inputs)
    graph.entities = transitive_entities(state.entities)
    ents = graph.entities.values()
    closure = compile_closure(
        template,
        tasks=[e.template for e in ents if e.kind == "task"],
        subworkflows=[e.template for e in ents if e.kind == "workflow"],
        launch_plans=[_lp_entry(e) for e in ents if e.kind == "launch plan"],
        where=state.where(state.location),
        locations=graph.locations,
        dynamic=dynamic,
    )
    graph.compiled = closure.primary
    graph.closure = closure
    return graph


def _lp_entry(lp: Any) -> tuple[Any, Any, frozenset[str]]:
    """(id, interface, inputs a node may leave unbound) of a launch plan."""
    optional = frozenset(getattr(lp, "fixed_inputs", ())) | frozenset(lp.py_interface.defaults)
    return lp.id, engine().interface(lp.py_interface), optional
