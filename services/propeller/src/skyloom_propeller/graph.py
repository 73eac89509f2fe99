"""The DAG walk: start ready nodes, advance running ones, decide where a scope stands.

``Walker`` implements ``GraphRunner`` for the handlers. A scope is walked in compiled
topological order and phases are updated as the walk goes, so a chain of nodes that finish
instantly (gates that passed, branches) completes in one round. Failure policy per scope:
FAIL_IMMEDIATELY stops starting nodes after the first failure and aborts running ones;
FAIL_AFTER_EXECUTABLE_NODES_COMPLETE lets every node that can still run finish first.
"""

from __future__ import annotations

from collections.abc import Mapping

from skyloom_core.dag import DONE_BAD, DONE_OK, upstream_of
from skyloom_core.phases import is_terminal_node
from skyloom_idl.core import types_pb2, workflow_pb2
from skyloom_propeller import events
from skyloom_propeller.bindings import BindingError, NotReady, resolve_bindings
from skyloom_propeller.commands import LookupRecovery
from skyloom_propeller.context import (
    END_NODE,
    NODE,
    START_NODE,
    GraphResult,
    NodeContext,
    Round,
    Scope,
    Transition,
)
from skyloom_propeller.handlers.base import NodeHandler
from skyloom_propeller.state import NodeState

_FAIL_AFTER = workflow_pb2.WorkflowMetadata.ON_FAILURE_POLICY_FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
_STARTED_AT = frozenset({NODE.PHASE_RUNNING, NODE.PHASE_WAITING, NODE.PHASE_DYNAMIC_RUNNING})


def lookup_uri(rnd: Round, scope: Scope, node_id: str) -> str:
    """Where ``node_id``'s outputs (``start-node``: the scope's inputs) are, seen from scope."""
    if node_id in scope.aliases:
        return scope.aliases[node_id]
    if scope.resolve_in is not None:
        return lookup_uri(rnd, scope.resolve_in, node_id)
    if node_id == START_NODE:
        return scope.inputs_uri
    st = rnd.state.nodes.get(scope.path(node_id))
    if st is None or not st.outputs_uri:
        raise BindingError(f"node '{node_id}' has no outputs yet")
    return st.outputs_uri


class Walker:
    """Walks scopes with the given handlers (keyed by ``Node.target`` oneof name, plus
    ``"end"`` for the end node)."""

    def __init__(self, handlers: Mapping[str, NodeHandler]) -> None:
        self._handlers = dict(handlers)

    def handler(self, node: workflow_pb2.Node) -> NodeHandler:
        kind = "end" if node.id == END_NODE else node.WhichOneof("target")
        if kind is None or kind not in self._handlers:
            raise LookupError(f"no handler for node '{node.id}' ({kind})")
        return self._handlers[kind]

    def ctx(self, rnd: Round, scope: Scope, node: workflow_pb2.Node, path: str) -> NodeContext:
        return NodeContext(rnd, scope, node, path, rnd.state.node(path), self)

    def run_graph(self, rnd: Round, scope: Scope) -> GraphResult:
        compiled = scope.compiled
        nodes = {n.id: n for n in compiled.template.nodes}
        nodes[END_NODE] = workflow_pb2.Node(id=END_NODE)
        immediate = compiled.template.metadata.on_failure != _FAIL_AFTER
        phases: dict[str, int] = {START_NODE: NODE.PHASE_SUCCEEDED}
        first_bad: NodeState | None = None
        for node_id in compiled.topological_order:
            if node_id == START_NODE:
                continue
            path = scope.path(node_id)
            st = rnd.state.nodes.get(path)
            if st is None or st.phase == NODE.PHASE_UNSPECIFIED:
                ups = [phases.get(u, 0) for u in upstream_of(compiled, node_id)]
                if rnd.aborting or any(p in DONE_BAD for p in ups):
                    continue
                if (first_bad is not None and immediate) or not all(
                    p in DONE_OK or p == NODE.PHASE_SKIPPED for p in ups
                ):
                    continue
                if NODE.PHASE_SKIPPED in ups:
                    ctx = self.ctx(rnd, scope, nodes[node_id], path)
                    self.apply(ctx, Transition(NODE.PHASE_SKIPPED))
                    phases[node_id] = NODE.PHASE_SKIPPED
                    continue
            if st is None or not is_terminal_node(st.phase):
                st = self.visit(rnd, scope, nodes[node_id], path)
            phases[node_id] = st.phase
            if st.phase in DONE_BAD and first_bad is None:
                first_bad = st
        end = rnd.state.nodes.get(scope.path(END_NODE))
        if first_bad is not None:
            running = any(p in _STARTED_AT or p == NODE.PHASE_QUEUED for p in phases.values())
            if immediate and running:
                self.abort_graph(rnd, scope, "another node failed")
            elif running:
                return GraphResult(NODE.PHASE_RUNNING)
            return GraphResult(NODE.PHASE_FAILED, error=first_bad.error)
        if end is not None and end.phase == NODE.PHASE_SUCCEEDED:
            return GraphResult(NODE.PHASE_SUCCEEDED, outputs_uri=end.outputs_uri)
        if end is not None and end.phase == NODE.PHASE_FAILED:
            return GraphResult(NODE.PHASE_FAILED, error=end.error)
        return GraphResult(NODE.PHASE_RUNNING)

    def visit(self, rnd: Round, scope: Scope, node: workflow_pb2.Node, path: str) -> NodeState:
        """Start ``node`` if it is new (inputs, recovery), then let its handler advance it."""
        ctx = self.ctx(rnd, scope, node, path)
        st = ctx.st
        if st.phase == NODE.PHASE_UNSPECIFIED and not self._start(ctx):
            return st
        self.apply(ctx, self.handler(node).handle(ctx))
        return st

    def _start(self, ctx: NodeContext) -> bool:
        """Queue a new node; False when it must wait (inputs or a recovery answer)."""
        rnd, st, node = ctx.rnd, ctx.st, ctx.node
        if node.id == END_NODE:
            st.queued_at = rnd.now
            self.apply(ctx, Transition(NODE.PHASE_QUEUED))
            return True
        if rnd.state.recover_from:
            answer = rnd.view.recovery(ctx.path)
            if answer is None:
                rnd.emit(LookupRecovery(ctx.path, rnd.state.recover_from))
                return False
            if answer.succeeded:
                self.apply(ctx, Transition.succeeded(answer.outputs_uri, NODE.PHASE_RECOVERED))
                return False
        types = self._input_types(ctx)
        try:
            inputs = resolve_bindings(
                node.inputs, lambda n: rnd.literals(lookup_uri(rnd, ctx.scope, n)), types
            )
        except NotReady:
            return False
        except BindingError as err:
            self.apply(ctx, Transition.failed("BindingResolutionFailed", str(err)))
            return False
        st.inputs_uri = rnd.data_uri(ctx.path, "inputs.pb")
        rnd.write(st.inputs_uri, inputs)
        st.queued_at = rnd.now
        self.apply(ctx, Transition(NODE.PHASE_QUEUED))
        return True

    def _input_types(self, ctx: NodeContext) -> dict[str, types_pb2.LiteralType] | None:
        if not ctx.node.HasField("task_node"):
            return None
        task = ctx.task(ctx.node.task_node.reference_id)
        return {k: v.type for k, v in task.interface.inputs.variables.items()}

    def apply(self, ctx: NodeContext, t: Transition) -> None:
        """Move the node to ``t.phase`` (if different) and emit its event."""
        st = ctx.st
        if t.phase == st.phase:
            return
        st.phase = t.phase
        st.updated_at = ctx.now
        if t.outputs_uri:
            st.outputs_uri = t.outputs_uri
        if t.error is not None:
            st.error = t.error
        if t.phase in _STARTED_AT and not st.started_at:
            st.started_at = ctx.now
        if ctx.node.id != END_NODE:
            events.node_event(ctx, t.phase, t.reason)
        if is_terminal_node(t.phase):
            self.handler(ctx.node).finalize(ctx)

    def abort_graph(self, rnd: Round, scope: Scope, reason: str) -> None:
        for n in scope.compiled.template.nodes:
            self.abort_node(rnd, scope, n, scope.path(n.id), reason)

    def abort_node(
        self, rnd: Round, scope: Scope, node: workflow_pb2.Node, path: str, reason: str
    ) -> None:
        st = rnd.state.nodes.get(path)
        if st is None or st.phase == NODE.PHASE_UNSPECIFIED or is_terminal_node(st.phase):
            return
        ctx = self.ctx(rnd, scope, node, path)
        self.handler(node).abort(ctx, reason)
        self.apply(ctx, Transition(NODE.PHASE_ABORTED, reason=reason))
