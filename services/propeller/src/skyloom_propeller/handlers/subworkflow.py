"""Workflow nodes: an inline subworkflow (run as a nested scope, paths ``<node>.<child>``) or a
launch plan (delegated to ``handlers.launchplan``: a child execution)."""

from __future__ import annotations

from skyloom_propeller.context import NODE, GraphResult, NodeContext, Scope, Transition
from skyloom_propeller.handlers.launchplan import LaunchPlanHandler


def from_result(res: GraphResult, running_phase: int = NODE.PHASE_RUNNING) -> Transition:
    """The node transition for where its nested scope stands."""
    if res.phase == NODE.PHASE_SUCCEEDED:
        return Transition.succeeded(res.outputs_uri)
    if res.phase == NODE.PHASE_FAILED:
        err = res.error
        if err is None:
            return Transition.failed("ChildNodeFailed", "a node inside failed")
        return Transition.failed(err.code, err.message, kind=err.kind, uri=err.uri)
    return Transition.running(running_phase)


class SubworkflowHandler:
    def __init__(self) -> None:
        self._launch_plans = LaunchPlanHandler()

    def _scope(self, ctx: NodeContext) -> Scope:
        compiled = ctx.subworkflow(ctx.node.workflow_node.sub_workflow_ref)
        return Scope(
            compiled=compiled,
            prefix=ctx.path + ".",
            inputs_uri=ctx.st.inputs_uri,
            retry_group=ctx.scope.retry_group,
            parent_path=ctx.path,
            tasks=ctx.scope.tasks,
            subworkflows=ctx.scope.subworkflows,
        )

    def _is_launch_plan(self, ctx: NodeContext) -> bool:
        return ctx.node.workflow_node.HasField("launchplan_ref")

    def handle(self, ctx: NodeContext) -> Transition:
        if self._is_launch_plan(ctx):
            return self._launch_plans.handle(ctx)
        return from_result(ctx.engine.run_graph(ctx.rnd, self._scope(ctx)))

    def abort(self, ctx: NodeContext, reason: str) -> None:
        if self._is_launch_plan(ctx):
            self._launch_plans.abort(ctx, reason)
        else:
            ctx.engine.abort_graph(ctx.rnd, self._scope(ctx), reason)

    def finalize(self, ctx: NodeContext) -> None:
        return None
