"""``evaluate``: one round of one execution, as a pure function.

    new_state, commands = evaluate(state, closure, view, now)

The input state is not modified. The same (state, closure, view, now) always gives the same
result, so a round can be replayed after a crash: the shell persists ``new_state`` (fenced by its
epoch) *before* executing ``commands``, and every command is idempotent (see ``commands``).

Workflow phases: RUNNING on the first round; SUCCEEDED when the primary scope's end node is
done; on failure FAILING while the workflow's ``failure_node`` runs (if any), then FAILED with the
original error; with ``abort_cause`` set, ABORTING then ABORTED in the same round, after every
running node was told to stop.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from skyloom_core.phases import is_terminal_node, is_terminal_workflow
from skyloom_core.refs import id_key
from skyloom_idl.core import compiler_pb2, execution_pb2
from skyloom_propeller import events
from skyloom_propeller.commands import Command, ScheduleWake
from skyloom_propeller.config import EngineConfig
from skyloom_propeller.context import Round, Scope
from skyloom_propeller.graph import Walker
from skyloom_propeller.handlers.array import ArrayHandler
from skyloom_propeller.handlers.base import NodeHandler
from skyloom_propeller.handlers.branch import BranchHandler
from skyloom_propeller.handlers.gate import GateHandler
from skyloom_propeller.handlers.start_end import EndHandler, StartHandler
from skyloom_propeller.handlers.subworkflow import SubworkflowHandler
from skyloom_propeller.handlers.task import TaskHandler
from skyloom_propeller.state import ExecutionState, ItemPhase
from skyloom_propeller.view import View

WF = execution_pb2.WorkflowExecution.Phase
NODE = execution_pb2.NodeExecution.Phase
TASK = execution_pb2.TaskExecution.Phase
FAILURE_PREFIX = "failure."


def default_handlers() -> dict[str, NodeHandler]:
    """The handler registry, keyed by ``Node.target`` (plus start/end), built explicitly."""
    return {
        "start": StartHandler(),
        "end": EndHandler(),
        "task_node": TaskHandler(),
        "branch_node": BranchHandler(),
        "workflow_node": SubworkflowHandler(),
        "gate_node": GateHandler(),
        "array_node": ArrayHandler(),
    }


def count_inflight(state: ExecutionState) -> int:
    """Task attempts (array items included) and child executions currently running."""
    n = 0
    for st in state.nodes.values():
        if st.array is not None:
            n += st.array.phases.count(ItemPhase.RUNNING)
        elif st.handle and st.task_phase in (TASK.PHASE_QUEUED, TASK.PHASE_RUNNING):
            n += 1
    return n


def evaluate(
    state: ExecutionState,
    closure: compiler_pb2.CompiledWorkflowClosure,
    view: View,
    now: float,
    config: EngineConfig | None = None,
    handlers: Mapping[str, NodeHandler] | None = None,
) -> tuple[ExecutionState, list[Command]]:
    """Run one round; see the module docstring."""
    state = copy.deepcopy(state)
    if is_terminal_workflow(state.phase):
        return state, []
    state.round += 1
    rnd = Round(
        state=state,
        closure=closure,
        view=view,
        now=now,
        config=config or EngineConfig(),
        tasks={id_key(t.template.id): t.template for t in closure.tasks},
        subworkflows={id_key(w.template.id): w for w in closure.sub_workflows},
    )
    rnd.inflight = count_inflight(state)
    walker = Walker(handlers or default_handlers())
    top = Scope(compiled=closure.primary, prefix="", inputs_uri=state.inputs_uri)
    if state.phase in (WF.PHASE_UNSPECIFIED, WF.PHASE_QUEUED):
        state.phase, state.started_at = WF.PHASE_RUNNING, now
        events.workflow_event(rnd, WF.PHASE_RUNNING)
    if rnd.aborting:
        _abort(rnd, walker, top)
    else:
        if state.phase == WF.PHASE_RUNNING:
            res = walker.run_graph(rnd, top)
            if res.phase == NODE.PHASE_SUCCEEDED:
                state.phase, state.outputs_uri = WF.PHASE_SUCCEEDED, res.outputs_uri
                events.workflow_event(rnd, WF.PHASE_SUCCEEDED, outputs_uri=res.outputs_uri)
            elif res.phase == NODE.PHASE_FAILED:
                state.error = res.error
                state.phase = WF.PHASE_FAILING
                events.workflow_event(rnd, WF.PHASE_FAILING)
        if state.phase == WF.PHASE_FAILING:
            _fail(rnd, walker, top)
    future = [w for w in rnd.wakes if w > now]
    if future and not is_terminal_workflow(state.phase):
        rnd.emit(ScheduleWake(min(future)))
    return state, list(rnd.commands.items)


def _fail(rnd: Round, walker: Walker, top: Scope) -> None:
    """Run the failure node (if any) with the workflow's inputs, then fail."""
    state = rnd.state
    node = top.compiled.template.failure_node
    if node.id:
        path = FAILURE_PREFIX + node.id
        st = walker.visit(rnd, top, node, path)
        if not is_terminal_node(st.phase):
            return
    state.phase = WF.PHASE_FAILED
    events.workflow_event(rnd, WF.PHASE_FAILED, error=state.error)


def _abort(rnd: Round, walker: Walker, top: Scope) -> None:
    state = rnd.state
    if state.phase != WF.PHASE_ABORTING:
        state.phase = WF.PHASE_ABORTING
        events.workflow_event(rnd, WF.PHASE_ABORTING)
    walker.abort_graph(rnd, top, state.abort_cause)
    node = top.compiled.template.failure_node
    if node.id:
        walker.abort_node(rnd, top, node, FAILURE_PREFIX + node.id, state.abort_cause)
    state.phase = WF.PHASE_ABORTED
    events.workflow_event(rnd, WF.PHASE_ABORTED)


def request_abort(state: ExecutionState, cause: str) -> ExecutionState:
    """A copy of ``state`` that the next round aborts (an abort of a finished or aborting
    execution changes nothing)."""
    if is_terminal_workflow(state.phase) or state.abort_cause:
        return state
    new = copy.deepcopy(state)
    new.abort_cause = cause or "aborted"
    return new
