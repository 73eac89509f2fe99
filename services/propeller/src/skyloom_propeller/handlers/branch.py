"""Branch nodes: pick the first case whose condition holds over the branch's inputs, then run
that node inside the branch (path ``<branch>.<node id>``); the branch's outputs are its outputs.

The choice is recorded in ``detail["taken"]`` the first time, so it never changes even if a later
round could evaluate differently. No case and an ``error`` default fails the node (USER).
"""

from __future__ import annotations

from skyloom_core.phases import is_terminal_node
from skyloom_idl.core import workflow_pb2
from skyloom_propeller.conditions import ConditionError, evaluate
from skyloom_propeller.context import NODE, NodeContext, Scope, Transition


def _cases(node: workflow_pb2.Node) -> list[workflow_pb2.Node]:
    ie = node.branch_node.if_else
    nodes = [ie.case.then_node, *(b.then_node for b in ie.other)]
    if ie.HasField("else_node"):
        nodes.append(ie.else_node)
    return nodes


class BranchHandler:
    def _scope(self, ctx: NodeContext) -> Scope:
        return Scope(
            compiled=ctx.scope.compiled,
            prefix=ctx.path + ".",
            inputs_uri=ctx.scope.inputs_uri,
            retry_group=ctx.scope.retry_group,
            parent_path=ctx.path,
            aliases={ctx.node.id: ctx.st.inputs_uri},
            resolve_in=ctx.scope,
            tasks=ctx.scope.tasks,
            subworkflows=ctx.scope.subworkflows,
        )

    def _chosen(self, ctx: NodeContext) -> workflow_pb2.Node | Transition:
        st = ctx.st
        taken = st.detail.get("taken")
        if taken is None:
            inputs = ctx.inputs()
            if inputs is None:
                return Transition.stay(ctx)
            ie = ctx.node.branch_node.if_else
            try:
                hit = next(
                    (b.then_node for b in [ie.case, *ie.other] if evaluate(b.condition, inputs)),
                    None,
                )
            except ConditionError as err:
                return Transition.failed("BranchConditionFailed", str(err))
            if hit is None and ie.HasField("error"):
                return Transition.failed("BranchFailed", ie.error.message or "no case matched")
            if hit is None:
                hit = ie.else_node
            st.detail["taken"] = taken = hit.id
        return next(n for n in _cases(ctx.node) if n.id == taken)

    def handle(self, ctx: NodeContext) -> Transition:
        chosen = self._chosen(ctx)
        if isinstance(chosen, Transition):
            return chosen
        child = ctx.engine.visit(ctx.rnd, self._scope(ctx), chosen, f"{ctx.path}.{chosen.id}")
        if not is_terminal_node(child.phase):
            return Transition.running()
        if child.phase in (NODE.PHASE_SUCCEEDED, NODE.PHASE_RECOVERED):
            return Transition.succeeded(child.outputs_uri)
        err = child.error
        return Transition.failed(
            err.code if err else "BranchNodeFailed",
            err.message if err else f"node {chosen.id} ended {NODE.Name(child.phase)}",  # type: ignore[arg-type]
            kind=err.kind if err else 1,
        )

    def abort(self, ctx: NodeContext, reason: str) -> None:
        taken = ctx.st.detail.get("taken")
        for n in _cases(ctx.node):
            if n.id == taken:
                ctx.engine.abort_node(ctx.rnd, self._scope(ctx), n, f"{ctx.path}.{n.id}", reason)

    def finalize(self, ctx: NodeContext) -> None:
        return None
