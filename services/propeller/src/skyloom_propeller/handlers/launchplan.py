"""Launch-plan nodes: a child execution with a deterministic name.

The name is ``child_execution_name(parent, node path, 0)``, so re-issuing the create after a
crash is answered ``ALREADY_EXISTS`` by admin, which the shell treats as success. Completion is
observed through ``View.child`` (the shell follows the child's workflow events). The node counts
against max parallelism while the child runs (``task_phase`` QUEUED/RUNNING).
"""

from __future__ import annotations

from skyloom_core.ids import child_execution_name
from skyloom_core.phases import is_terminal_workflow
from skyloom_core.refs import id_key
from skyloom_idl.core import execution_pb2
from skyloom_propeller.commands import AbortChildExecution, CreateChildExecution
from skyloom_propeller.context import NodeContext, Transition

WF = execution_pb2.WorkflowExecution.Phase
TASK = execution_pb2.TaskExecution.Phase


class LaunchPlanHandler:
    def handle(self, ctx: NodeContext) -> Transition:
        st, rnd = ctx.st, ctx.rnd
        name = child_execution_name(rnd.execution_id, ctx.path, 0)
        create = CreateChildExecution(
            name, id_key(ctx.node.workflow_node.launchplan_ref), st.inputs_uri, ctx.path
        )
        if not st.handle:
            if not rnd.can_launch():
                return Transition.stay(ctx)
            rnd.inflight += 1
            st.handle = name
            st.task_phase = TASK.PHASE_QUEUED
            rnd.emit(create)
            return Transition.running()
        status = rnd.view.child(name)
        if status is None:
            rnd.emit(create)  # idempotent: ALREADY_EXISTS is success
            return Transition.stay(ctx)
        if not is_terminal_workflow(status.phase):
            st.task_phase = TASK.PHASE_RUNNING
            return Transition.running()
        rnd.inflight -= 1
        st.task_phase = (
            TASK.PHASE_SUCCEEDED if status.phase == WF.PHASE_SUCCEEDED else TASK.PHASE_FAILED
        )
        if status.phase == WF.PHASE_SUCCEEDED:
            return Transition.succeeded(status.outputs_uri)
        ended = WF.Name(status.phase)  # type: ignore[arg-type]
        return Transition.failed(
            status.error_code or "ChildExecutionFailed",
            status.error_message or f"child execution {name} ended {ended}",
        )

    def abort(self, ctx: NodeContext, reason: str) -> None:
        if ctx.st.handle:
            ctx.rnd.emit(AbortChildExecution(ctx.st.handle, reason))
            ctx.st.task_phase = TASK.PHASE_ABORTED

    def finalize(self, ctx: NodeContext) -> None:
        return None
