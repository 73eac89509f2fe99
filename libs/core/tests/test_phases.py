"""Admin's event guard, checked over every (stored, incoming) pair of phases."""

from __future__ import annotations

import itertools

import pytest

from skyloom_core.phases import (
    Outcome,
    check_node_event,
    check_task_event,
    check_workflow_event,
    is_terminal_node,
    is_terminal_task,
    is_terminal_workflow,
    node_rank,
    supersedes,
    task_rank,
    workflow_rank,
)
from skyloom_idl.core import execution_pb2

WF = execution_pb2.WorkflowExecution
NODE = execution_pb2.NodeExecution
TASK = execution_pb2.TaskExecution
A, X, F, INV = (
    Outcome.ACCEPTED,
    Outcome.ALREADY_EXISTS,
    Outcome.FAILED_PRECONDITION,
    Outcome.INVALID_ARGUMENT,
)

WF_PHASES = list(WF.Phase.values())
NODE_PHASES = list(NODE.Phase.values())
TASK_PHASES = list(TASK.Phase.values())

WF_TERMINAL = {WF.PHASE_SUCCEEDED, WF.PHASE_FAILED, WF.PHASE_ABORTED, WF.PHASE_TIMED_OUT}
NODE_TERMINAL = {
    NODE.PHASE_SUCCEEDED,
    NODE.PHASE_FAILED,
    NODE.PHASE_ABORTED,
    NODE.PHASE_SKIPPED,
    NODE.PHASE_TIMED_OUT,
    NODE.PHASE_RECOVERED,
}
TASK_TERMINAL = {TASK.PHASE_SUCCEEDED, TASK.PHASE_FAILED, TASK.PHASE_ABORTED, TASK.PHASE_TIMED_OUT}


def test_terminal_sets() -> None:
    assert {p for p in WF_PHASES if is_terminal_workflow(p)} == WF_TERMINAL
    assert {p for p in NODE_PHASES if is_terminal_node(p)} == NODE_TERMINAL
    assert {p for p in TASK_PHASES if is_terminal_task(p)} == TASK_TERMINAL


def expected_workflow(cur: int, new: int) -> Outcome:
    if new == WF.PHASE_UNSPECIFIED:
        return INV
    if cur == WF.PHASE_UNSPECIFIED:
        return A
    if cur == new:
        return A if new == WF.PHASE_QUEUED else X
    if cur in WF_TERMINAL:
        return F
    if (cur, new) == (WF.PHASE_RUNNING, WF.PHASE_QUEUED):
        return F
    if cur == WF.PHASE_ABORTING and new not in WF_TERMINAL:
        return F
    return A


@pytest.mark.parametrize(("cur", "new"), list(itertools.product(WF_PHASES, WF_PHASES)))
def test_workflow_guard_every_pair(cur: int, new: int) -> None:
    decision = check_workflow_event(cur, new)
    assert decision.outcome is expected_workflow(cur, new)
    if decision.outcome is F:
        assert decision.current_phase == cur


def test_workflow_guard_named_cases() -> None:
    assert check_workflow_event(None, WF.PHASE_QUEUED).accepted
    assert check_workflow_event(WF.PHASE_QUEUED, WF.PHASE_QUEUED).accepted  # cluster reassignment
    assert check_workflow_event(WF.PHASE_RUNNING, WF.PHASE_RUNNING).outcome is X
    done = check_workflow_event(WF.PHASE_SUCCEEDED, WF.PHASE_RUNNING)
    assert (done.outcome, done.current_phase, done.already_in_terminal_state) == (
        F,
        WF.PHASE_SUCCEEDED,
        True,
    )
    assert check_workflow_event(WF.PHASE_SUCCEEDED, WF.PHASE_SUCCEEDED).outcome is X
    back = check_workflow_event(WF.PHASE_RUNNING, WF.PHASE_QUEUED)
    assert (back.outcome, back.already_in_terminal_state) == (F, False)
    assert check_workflow_event(WF.PHASE_ABORTING, WF.PHASE_RUNNING).outcome is F
    assert check_workflow_event(WF.PHASE_ABORTING, WF.PHASE_ABORTED).accepted


@pytest.mark.parametrize(("cur", "new"), list(itertools.product(NODE_PHASES, NODE_PHASES)))
def test_node_guard_every_pair(cur: int, new: int) -> None:
    if new == NODE.PHASE_UNSPECIFIED:
        want = INV
    elif cur == NODE.PHASE_UNSPECIFIED:
        want = A
    elif cur == new:
        want = X
    elif cur in NODE_TERMINAL:
        want = F
    else:
        want = A
    assert check_node_event(cur, new).outcome is want


@pytest.mark.parametrize(("cur", "new"), list(itertools.product(TASK_PHASES, TASK_PHASES)))
@pytest.mark.parametrize(("cur_v", "new_v"), [(0, 0), (1, 0), (1, 2)])
def test_task_guard_every_pair(cur: int, new: int, cur_v: int, new_v: int) -> None:
    if new == TASK.PHASE_UNSPECIFIED:
        want = INV
    elif cur == TASK.PHASE_UNSPECIFIED:
        want = A
    elif cur == new and new_v <= cur_v:
        want = X
    elif cur in TASK_TERMINAL:
        want = F
    else:
        want = A
    assert check_task_event(cur, cur_v, new, new_v).outcome is want


def test_task_phase_version_bump_in_same_phase_is_accepted() -> None:
    assert check_task_event(TASK.PHASE_RUNNING, 1, TASK.PHASE_RUNNING, 2).accepted
    assert check_task_event(TASK.PHASE_RUNNING, 2, TASK.PHASE_RUNNING, 2).outcome is X
    assert (
        check_task_event(TASK.PHASE_FAILED, 0, TASK.PHASE_RUNNING, 0).current_phase
        == TASK.PHASE_FAILED
    )


def test_ranks_and_supersedes() -> None:
    assert (
        workflow_rank(WF.PHASE_QUEUED)
        < workflow_rank(WF.PHASE_RUNNING)
        < workflow_rank(WF.PHASE_SUCCEEDED)
    )
    assert node_rank(NODE.PHASE_RUNNING) < node_rank(NODE.PHASE_SKIPPED)
    assert (
        task_rank(TASK.PHASE_QUEUED) < task_rank(TASK.PHASE_RUNNING) < task_rank(TASK.PHASE_ABORTED)
    )
    run, q = task_rank(TASK.PHASE_RUNNING), task_rank(TASK.PHASE_QUEUED)
    assert supersedes(q, TASK.PHASE_QUEUED, 0, run, TASK.PHASE_RUNNING, 0)
    assert not supersedes(run, TASK.PHASE_RUNNING, 0, q, TASK.PHASE_QUEUED, 5)  # late, out of order
    assert supersedes(run, TASK.PHASE_RUNNING, 1, run, TASK.PHASE_RUNNING, 2)
    ok, bad = task_rank(TASK.PHASE_SUCCEEDED), task_rank(TASK.PHASE_FAILED)
    assert not supersedes(ok, TASK.PHASE_SUCCEEDED, 0, bad, TASK.PHASE_FAILED, 0)
