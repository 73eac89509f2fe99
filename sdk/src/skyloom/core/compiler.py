"""Validate templates with libs/core's compiler; report its errors in the author's terms.

When ``skyloom_core.compiler`` is not importable the SDK still computes the graph (upstream
map, topological order, cycles) itself, so local execution does not depend on it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from skyloom._errors import CompileError
from skyloom_idl.core import (
    compiler_pb2,
    dynamic_job_pb2,
    identifier_pb2,
    literals_pb2,
    tasks_pb2,
    workflow_pb2,
)

START, END = "start-node", "end-node"


def _core_compiler() -> Any | None:
    try:
        return importlib.import_module("skyloom_core.compiler")
    except ImportError:
        return None


def id_key(ident: identifier_pb2.Identifier) -> str:
    """The key libs/core's compiler uses for an entity: ``project/domain/name@version``."""
    return f"{ident.project}/{ident.domain}/{ident.name}@{ident.version}"


def compile_closure(
    primary: workflow_pb2.WorkflowTemplate,
    *,
    tasks: Iterable[tasks_pb2.TaskTemplate],
    subworkflows: Iterable[workflow_pb2.WorkflowTemplate],
    launch_plans: Iterable[tuple[identifier_pb2.Identifier, Any, frozenset[str]]] = (),
    where: str,
    locations: Mapping[str, str],
    dynamic: bool = False,
) -> compiler_pb2.CompiledWorkflowClosure:
    """Compile and validate ``primary``; raise CompileError naming the author's lines.

    ``launch_plans`` holds (id, TypedInterface, names of inputs with defaults or fixed).
    ``dynamic``: compile a @dynamic task's generated graph (libs/core's compile_dynamic).
    """
    task_list, sub_list = list(tasks), list(subworkflows)
    core = _core_compiler()
    if core is not None and hasattr(core, "compile_workflow"):
        lps = {id_key(i): core.LaunchPlanInterface(iface, d) for i, iface, d in launch_plans}
        tasks_by_key = {id_key(t.id): t for t in task_list}
        subs_by_key = {id_key(w.id): w for w in sub_list}
        try:
            if dynamic:
                closure: compiler_pb2.CompiledWorkflowClosure = core.compile_dynamic(
                    dynamic_job_pb2.DynamicJobSpec(nodes=primary.nodes, outputs=primary.outputs),
                    parent_id=primary.id,
                    parent_interface=primary.interface,
                    tasks=tasks_by_key,
                    subworkflows=subs_by_key,
                    launch_plans=lps,
                )
            else:
                closure = core.compile_workflow(
                    primary, tasks=tasks_by_key, subworkflows=subs_by_key, launch_plans=lps
                )
        except Exception as err:
            errors = getattr(err, "errors", None)
            if errors is None:
                raise
            raise _translate(errors, where, locations) from err
        return closure
    return compiler_pb2.CompiledWorkflowClosure(
        primary=compile_graph(primary, where=where, locations=locations),
        sub_workflows=[compile_graph(w, where=where, locations=locations) for w in sub_list],
        tasks=[compiler_pb2.CompiledTask(template=t) for t in task_list],
    )


def _translate(errors: Iterable[Any], where: str, locations: Mapping[str, str]) -> CompileError:
    lines = []
    first_loc, first_code, first_node = "", "", ""
    for e in errors:
        node_id = getattr(e, "node_id", "") or ""
        loc = getattr(e, "source_location", "") or locations.get(node_id, "")
        name = where.split(" (", 1)[0]
        prefix = f"{name} ({loc})" if loc else where
        field = getattr(e, "field_path", "") or ""
        detail = f" [{field}]" if field else ""
        lines.append(f"{prefix}: {getattr(e, 'message', e)}{detail}")
        if not first_code:
            first_loc, first_code, first_node = loc, getattr(e, "code", ""), node_id
    return CompileError("\n".join(lines), location=first_loc, code=first_code, node_id=first_node)


def binding_refs(data: literals_pb2.BindingData) -> set[str]:
    """Node ids a binding reads from."""
    kind = data.WhichOneof("value")
    if kind == "promise":
        return {data.promise.node_id}
    if kind == "collection":
        return set().union(*(binding_refs(b) for b in data.collection.bindings))
    if kind == "map":
        return set().union(*(binding_refs(b) for b in data.map.bindings.values()))
    if kind == "union":
        return binding_refs(data.union.value)
    return set()


def node_refs(node: workflow_pb2.Node) -> set[str]:
    """Every node id ``node`` (with its branch and array sub-nodes) depends on."""
    refs = set(node.upstream_node_ids)
    for b in node.inputs:
        refs |= binding_refs(b.binding)
    inner: list[workflow_pb2.Node] = []
    if node.HasField("branch_node"):
        ie = node.branch_node.if_else
        inner = [ie.case.then_node, *(o.then_node for o in ie.other)]
        if ie.HasField("else_node"):
            inner.append(ie.else_node)
    elif node.HasField("array_node"):
        inner = [node.array_node.node]
    for sub in inner:
        refs |= node_refs(sub) - {sub.id}
    return refs


def compile_graph(
    template: workflow_pb2.WorkflowTemplate, *, where: str, locations: Mapping[str, str]
) -> compiler_pb2.CompiledWorkflow:
    """Edges and a topological order of one workflow (or a dynamic job's nodes)."""
    ids = [n.id for n in template.nodes]
    upstream: dict[str, set[str]] = {}
    for node in template.nodes:
        refs = node_refs(node)
        unknown = sorted(refs - set(ids) - {START})
        if unknown:
            loc = locations.get(node.id, "")
            raise CompileError(
                f"{where.split(' (', 1)[0]} ({loc}): node {node.metadata.name} depends on "
                f"unknown node(s) {', '.join(unknown)}",
                location=loc,
                code="UnknownNode",
                node_id=node.id,
            )
        upstream[node.id] = refs or {START}
    end_refs: set[str] = set()
    for b in template.outputs:
        end_refs |= binding_refs(b.binding)
    upstream[END] = end_refs | {i for i in ids if not any(i in u for u in upstream.values())}
    upstream[END] = upstream[END] or {START}
    order = _topological([START, *ids, END], upstream, where)
    conns = compiler_pb2.ConnectionSet()
    for node_id, ups in upstream.items():
        conns.upstream[node_id].ids.extend(sorted(ups))
        for u in sorted(ups):
            conns.downstream[u].ids.append(node_id)
    return compiler_pb2.CompiledWorkflow(
        template=template, connections=conns, topological_order=order
    )


def _topological(ids: list[str], upstream: Mapping[str, set[str]], where: str) -> list[str]:
    order: list[str] = []
    done: set[str] = set()
    pending = list(ids)
    while pending:
        ready = [i for i in pending if upstream.get(i, set()) <= done]
        if not ready:
            raise CompileError(
                f"{where}: the nodes {', '.join(pending)} form a cycle", code="CycleDetected"
            )
        for i in ready:
            order.append(i)
            done.add(i)
        pending = [i for i in pending if i not in done]
    return order
