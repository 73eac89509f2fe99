"""Compiles one WorkflowTemplate: ids, node interfaces, bindings, edges, order.

The template is copied, and references in the copy are rewritten to the full ids they resolved
to, so the engine can look tasks up in the closure by exact id. Every problem goes to the sink;
nothing stops at the first one.
"""

from __future__ import annotations

from skyloom_core.compiler import _bindings as b
from skyloom_core.compiler._branch import InnerNode, branch_outputs, check_conditions, inner_nodes
from skyloom_core.compiler._context import (
    END_NODE,
    RESERVED_IDS,
    START_NODE,
    Entities,
    Interface,
    Location,
    Sink,
    VarTypes,
    display_name,
    variables,
)
from skyloom_core.compiler._graph import analyze, connection_set
from skyloom_core.compiler._interfaces import (
    array_interface,
    gate_interface,
    task_interface,
    workflow_interface,
)
from skyloom_core.compiler.codes import ErrorCode
from skyloom_core.names import validate_node_id
from skyloom_core.refs import resolve
from skyloom_core.types import type_name
from skyloom_idl.core import compiler_pb2, types_pb2, workflow_pb2

Deps = dict[str, str]


class TemplateCompiler:
    """Compiles one template into a CompiledWorkflow; errors accumulate in ``sink``."""

    def __init__(
        self,
        template: workflow_pb2.WorkflowTemplate,
        entities: Entities,
        sink: Sink,
        *,
        require_nodes: bool = True,
    ) -> None:
        self.wf = workflow_pb2.WorkflowTemplate()
        self.wf.CopyFrom(template)
        self.entities = entities
        self.sink = sink
        self.require_nodes = require_nodes
        self.source = self.wf.metadata.source_location
        self.name = self.wf.id.name or "workflow"
        self.ifaces: dict[str, Interface] = {}
        self.displays: dict[str, str] = {START_NODE: "workflow input"}
        self.cases: dict[str, list[tuple[InnerNode, Interface | None]]] = {}
        self.sub_refs: dict[str, str] = {}
        self._inferring: set[tuple[str, str]] = set()

    def _loc(self, node: workflow_pb2.Node, path: str, outer: str = "") -> Location:
        return Location(
            node.id, path, display_name(node), node.metadata.source_location or outer or self.source
        )

    def compile(self) -> compiler_pb2.CompiledWorkflow:
        nodes = self.wf.nodes
        if not nodes and self.require_nodes:
            self.sink.add(
                ErrorCode.NO_NODES_FOUND,
                f"workflow {self.name} has no nodes",
                path="nodes",
                source=self.source,
            )
        seen: dict[str, str] = {}
        for i, node in enumerate(nodes):
            self._check_ids(node, f"nodes[{i}]", seen)
        if self.wf.HasField("failure_node"):
            self._check_ids(self.wf.failure_node, "failure_node", seen)
        self.ifaces[START_NODE] = Interface(outputs=variables(self.wf.interface.inputs))
        order: list[str] = []
        own: list[Interface | None] = []
        for i, node in enumerate(nodes):
            path = f"nodes[{i}]"
            iface = self._interface(node, path, self._loc(node, path))
            own.append(iface)
            if node.id in self.ifaces or node.id in RESERVED_IDS:
                continue  # a duplicate is checked on its own but cannot be referenced
            order.append(node.id)
            self.displays[node.id] = display_name(node)
            # A node whose target did not resolve still exists: references to it are not
            # reported again, and its outputs are of unknown type.
            self.ifaces[node.id] = iface or Interface(open_inputs=True, opaque=True)
        scope = b.Scope(self.ifaces, self.displays, self._infer_passthrough)
        deps: dict[str, Deps] = {}
        for i, node in enumerate(nodes):
            path = f"nodes[{i}]"
            found = self._links(node, own[i], path, self._loc(node, path), scope)
            if node.id in order and node.id not in deps:
                deps[node.id] = found
        if self.wf.HasField("failure_node"):
            fn = self.wf.failure_node
            loc = self._loc(fn, "failure_node")
            fscope = b.Scope({START_NODE: self.ifaces[START_NODE]}, self.displays)
            self._links(fn, self._interface(fn, "failure_node", loc), "failure_node", loc, fscope)
        end_deps = self._outputs(scope)
        return self._assemble(order, deps, end_deps)

    def _check_ids(self, node: workflow_pb2.Node, path: str, seen: dict[str, str]) -> None:
        loc = self._loc(node, path)
        if node.id in RESERVED_IDS:
            self.sink.at(
                loc, ErrorCode.RESERVED_NODE_ID, f"node id '{node.id}' is reserved", f"{path}.id"
            )
        elif node.id in seen:
            msg = f"node id '{node.id}' is used more than once (first at {seen[node.id]})"
            self.sink.at(loc, ErrorCode.DUPLICATE_NODE_ID, msg, f"{path}.id")
        else:
            for v in validate_node_id(node.id, f"{path}.id"):
                self.sink.at(loc, ErrorCode.INVALID_NODE_ID, v.message, v.field_path)
            seen[node.id] = path
        if node.WhichOneof("target") == "branch_node":
            ie = node.branch_node.if_else
            base = f"{path}.branch_node.if_else"
            pairs = (
                [(ie.case.then_node, f"{base}.case.then_node")]
                if ie.case.HasField("then_node")
                else []
            )
            pairs += [
                (o.then_node, f"{base}.other[{k}].then_node")
                for k, o in enumerate(ie.other)
                if o.HasField("then_node")
            ]
            if ie.WhichOneof("default") == "else_node":
                pairs.append((ie.else_node, f"{base}.else_node"))
            for inner, p in pairs:
                self._check_ids(inner, p, seen)

    def _interface(self, node: workflow_pb2.Node, path: str, loc: Location) -> Interface | None:
        kind = node.WhichOneof("target")
        iface: Interface | None
        if kind == "task_node":
            iface = task_interface(
                node.task_node, self.entities, self.sink, loc, f"{path}.task_node"
            )
        elif kind == "workflow_node":
            iface = workflow_interface(
                node.workflow_node, self.entities, self.sink, loc, f"{path}.workflow_node"
            )
            self._note_subworkflow(node.workflow_node, path)
        elif kind == "gate_node":
            iface = gate_interface(node.gate_node, self.sink, loc, f"{path}.gate_node")
            if iface.passthrough:
                iface.outputs = {bd.var: None for bd in node.inputs}
        elif kind == "array_node":
            iface = array_interface(
                node.array_node, self.entities, self.sink, loc, f"{path}.array_node"
            )
            if node.array_node.node.WhichOneof("target") == "workflow_node":
                self._note_subworkflow(node.array_node.node.workflow_node, path)
        elif kind == "branch_node":
            cases = [
                (inner, self._interface(inner[0], inner[1], inner[2]))
                for inner in inner_nodes(node, path, self.sink, loc)
            ]
            self.cases[path] = cases
            iface = Interface(outputs=branch_outputs(cases, self.sink, loc), open_inputs=True)
        else:
            self.sink.at(
                loc,
                ErrorCode.NODE_HAS_NO_TARGET,
                f"node '{node.id}' has nothing to run (no task, workflow, branch, gate or array)",
                path,
            )
            return None
        if iface is not None:
            for k, alias in enumerate(node.output_aliases):
                if alias.var not in iface.outputs:
                    msg = f"{loc.display} has no output '{alias.var}' to alias as '{alias.alias}'"
                    self.sink.at(
                        loc, ErrorCode.UNKNOWN_OUTPUT, msg, f"{path}.output_aliases[{k}].var"
                    )
                else:
                    iface.outputs[alias.alias] = iface.outputs[alias.var]
        return iface

    def _note_subworkflow(self, node: workflow_pb2.WorkflowNode, path: str) -> None:
        if node.WhichOneof("reference") != "sub_workflow_ref":
            return
        found = resolve(node.sub_workflow_ref, self.entities.subworkflows)
        if found.found:
            self.sub_refs.setdefault(found.key, path)

    def _infer_passthrough(self, node_id: str, var: str) -> types_pb2.LiteralType | None:
        if (node_id, var) in self._inferring:
            return None
        self._inferring.add((node_id, var))
        try:
            for node in self.wf.nodes:
                if node.id == node_id:
                    for bd in node.inputs:
                        if bd.var == var:
                            scope = b.Scope(self.ifaces, self.displays, self._infer_passthrough)
                            res = b.resolve_promises(
                                bd.binding, "x", scope, None, self._loc(node, "")
                            )
                            return b.infer_type(bd.binding, res, "x")
            return None
        finally:
            self._inferring.discard((node_id, var))

    def _links(
        self,
        node: workflow_pb2.Node,
        iface: Interface | None,
        path: str,
        loc: Location,
        scope: b.Scope,
    ) -> Deps:
        """Check a node's bindings and upstream ids; return the upstream nodes it needs."""
        deps: Deps = {}
        bound: dict[str, str] = {}
        inferred: VarTypes = {}
        mapped = 0
        for j, binding in enumerate(node.inputs):
            bp = f"{path}.inputs[{j}]"
            var = binding.var
            if var in bound:
                first = bound[var]
                msg = f"input '{var}' of {loc.display} is bound more than once (first at {first})"
                self.sink.at(loc, ErrorCode.PARAMETER_BOUND_MORE_THAN_ONCE, msg, f"{bp}.var")
            else:
                bound[var] = bp
            res = b.resolve_promises(binding.binding, f"{bp}.binding", scope, self.sink, loc)
            for up, p in res.deps.items():
                deps.setdefault(up, p)
            inferred[var] = b.infer_type(binding.binding, res, f"{bp}.binding")
            if iface is None or iface.open_inputs:
                continue
            if var not in iface.inputs:
                have = ", ".join(sorted(iface.inputs)) or "none"
                self.sink.at(
                    loc,
                    ErrorCode.UNKNOWN_INPUT,
                    f"{loc.display} has no input '{var}' (inputs: {have})",
                    f"{bp}.var",
                )
                continue
            target = f"input '{var}' of {loc.display}"
            issues = b.check_shape(binding.binding, iface.inputs[var], f"{bp}.binding", res)
            if iface.array_of is not None:
                if not issues:
                    mapped += 1
                elif not b.check_shape(binding.binding, iface.array_of[var], f"{bp}.binding", res):
                    issues = []
            b.report(issues, target, self.sink, loc)
        if iface is not None:
            for var in sorted(iface.required - set(bound)):
                t = iface.inputs.get(var)
                shown = f" ({type_name(t)})" if t is not None else ""
                self.sink.at(
                    loc,
                    ErrorCode.PARAMETER_NOT_BOUND,
                    f"input '{var}'{shown} of {loc.display} is not bound",
                    f"{path}.inputs",
                )
            if iface.array_of and mapped == 0:
                msg = (
                    f"array node {loc.display} has nothing to map over: "
                    "bind at least one input to a list"
                )
                self.sink.at(loc, ErrorCode.INVALID_ARRAY_NODE, msg, f"{path}.inputs")
        for j, up in enumerate(node.upstream_node_ids):
            up_path = f"{path}.upstream_node_ids[{j}]"
            if up not in scope.interfaces or up == END_NODE:
                self.sink.at(
                    loc,
                    ErrorCode.UNKNOWN_NODE,
                    f"{loc.display} runs after node '{up}', which does not exist",
                    up_path,
                )
            else:
                deps.setdefault(up, up_path)
        if node.WhichOneof("target") == "branch_node":
            deps.update(
                {
                    k: v
                    for k, v in self._branch_links(node, path, loc, scope, inferred).items()
                    if k not in deps
                }
            )
        return deps

    def _branch_links(
        self, node: workflow_pb2.Node, path: str, loc: Location, scope: b.Scope, inputs: VarTypes
    ) -> Deps:
        check_conditions(node, path, inputs, self.sink, loc)
        inner_scope = b.Scope(
            {**scope.interfaces, node.id: Interface(outputs=inputs)},
            {**scope.displays, node.id: loc.display},
            scope.infer_passthrough,
        )
        deps: Deps = {}
        for (inner, ipath, iloc), iface in self.cases.get(path, []):
            for up, p in self._links(inner, iface, ipath, iloc, inner_scope).items():
                if up != node.id:
                    deps.setdefault(up, p)
        return deps

    def _outputs(self, scope: b.Scope) -> Deps:
        declared = variables(self.wf.interface.outputs)
        loc = Location(END_NODE, "outputs", f"workflow {self.name}", self.source)
        deps: Deps = {}
        bound: set[str] = set()
        for j, binding in enumerate(self.wf.outputs):
            bp = f"outputs[{j}]"
            if binding.var in bound:
                self.sink.at(
                    loc,
                    ErrorCode.PARAMETER_BOUND_MORE_THAN_ONCE,
                    f"output '{binding.var}' of workflow {self.name} is bound more than once",
                    f"{bp}.var",
                )
            bound.add(binding.var)
            res = b.resolve_promises(binding.binding, f"{bp}.binding", scope, self.sink, loc)
            for up, p in res.deps.items():
                deps.setdefault(up, p)
            if binding.var not in declared:
                have = ", ".join(sorted(declared)) or "none"
                self.sink.at(
                    loc,
                    ErrorCode.UNKNOWN_OUTPUT,
                    f"workflow {self.name} has no output '{binding.var}' (outputs: {have})",
                    f"{bp}.var",
                )
                continue
            issues = b.check_shape(binding.binding, declared[binding.var], f"{bp}.binding", res)
            b.report(issues, f"output '{binding.var}' of workflow {self.name}", self.sink, loc)
        for var in sorted(set(declared) - bound):
            t = declared[var]
            shown = f" ({type_name(t)})" if t is not None else ""
            self.sink.at(
                loc,
                ErrorCode.PARAMETER_NOT_BOUND,
                f"output '{var}'{shown} of workflow {self.name} is not bound",
                "outputs",
            )
        return deps

    def _assemble(
        self, order: list[str], deps: dict[str, Deps], end_deps: Deps
    ) -> compiler_pb2.CompiledWorkflow:
        inner = {n: {u: p for u, p in deps.get(n, {}).items() if u != START_NODE} for n in order}
        report = analyze(order, inner)
        for cycle in report.cycles:
            shown = " -> ".join((*cycle.path, cycle.path[0]))
            src = self._source_of(cycle.path[0])
            self.sink.add(
                ErrorCode.CYCLE_DETECTED,
                f"cycle detected: {shown}",
                node_id=cycle.path[0],
                path=cycle.field_path,
                source=src,
            )
        for n in report.unreachable:
            msg = f"node '{n}' can never run: it depends on a cycle"
            self.sink.add(
                ErrorCode.UNREACHABLE_NODES,
                msg,
                node_id=n,
                path=f"nodes[{self._index_of(n)}]",
                source=self._source_of(n),
            )
        conns = connection_set(order, deps, end_deps)
        topo = [START_NODE, *report.order, END_NODE] if not report.cycles else []
        return compiler_pb2.CompiledWorkflow(
            template=self.wf, connections=conns, topological_order=topo
        )

    def _index_of(self, node_id: str) -> int:
        return next(i for i, n in enumerate(self.wf.nodes) if n.id == node_id)

    def _source_of(self, node_id: str) -> str:
        return self.wf.nodes[self._index_of(node_id)].metadata.source_location or self.source
