"""Phase rules for workflow, node and task executions: admin's event guard, in pure functions.

The guard (Flyte's ``CreateWorkflowEvent``/node/task managers; reliability.md §1) answers an
incoming event given the stored phase:

=========================================  ===============================================
case                                       answer
=========================================  ===============================================
nothing stored yet                         ACCEPTED
same phase again (workflow: except QUEUED) ALREADY_EXISTS
task: same phase, phase_version ≤ stored   ALREADY_EXISTS
stored phase is terminal                   FAILED_PRECONDITION (carries the current phase)
workflow RUNNING → QUEUED                  FAILED_PRECONDITION
workflow ABORTING → non-terminal           FAILED_PRECONDITION
event phase UNSPECIFIED                    INVALID_ARGUMENT
=========================================  ===============================================

Anything else is ACCEPTED and stored. Whether an accepted event also moves the projection is a
separate question (``supersedes``): only an event of a higher rank, or the same phase with a
higher phase version, does; out-of-order events are stored but not applied.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from skyloom_idl.core import execution_pb2

WF = execution_pb2.WorkflowExecution.Phase
NODE = execution_pb2.NodeExecution.Phase
TASK = execution_pb2.TaskExecution.Phase


class Outcome(enum.Enum):
    """The guard's answer; the names match the gRPC status codes admin replies with."""

    ACCEPTED = "ACCEPTED"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"


@dataclass(frozen=True, slots=True)
class Decision:
    """What to answer an event; ``current_phase`` is the stored phase (None if none)."""

    outcome: Outcome
    current_phase: int | None
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def already_in_terminal_state(self) -> bool:
        """True for the FAILED_PRECONDITION that carries EventErrorAlreadyInTerminalState."""
        return self.outcome is Outcome.FAILED_PRECONDITION and self.reason.startswith("already")


WORKFLOW_TERMINAL = frozenset(
    {WF.PHASE_SUCCEEDED, WF.PHASE_FAILED, WF.PHASE_ABORTED, WF.PHASE_TIMED_OUT}
)
NODE_TERMINAL = frozenset(
    {
        NODE.PHASE_SUCCEEDED,
        NODE.PHASE_FAILED,
        NODE.PHASE_ABORTED,
        NODE.PHASE_SKIPPED,
        NODE.PHASE_TIMED_OUT,
        NODE.PHASE_RECOVERED,
    }
)
TASK_TERMINAL = frozenset(
    {TASK.PHASE_SUCCEEDED, TASK.PHASE_FAILED, TASK.PHASE_ABORTED, TASK.PHASE_TIMED_OUT}
)

# Ranks order phases by how far along they are; terminal phases share the top rank.
_WORKFLOW_RANK = {
    WF.PHASE_UNSPECIFIED: 0,
    WF.PHASE_QUEUED: 1,
    WF.PHASE_RUNNING: 2,
    WF.PHASE_SUCCEEDING: 3,
    WF.PHASE_FAILING: 3,
    WF.PHASE_ABORTING: 4,
}
_NODE_RANK = {
    NODE.PHASE_UNSPECIFIED: 0,
    NODE.PHASE_QUEUED: 1,
    NODE.PHASE_WAITING: 2,
    NODE.PHASE_RUNNING: 3,
    NODE.PHASE_DYNAMIC_RUNNING: 4,
    NODE.PHASE_FAILING: 5,
}
_TASK_RANK = {
    TASK.PHASE_UNSPECIFIED: 0,
    TASK.PHASE_QUEUED: 1,
    TASK.PHASE_WAITING_FOR_RESOURCES: 2,
    TASK.PHASE_INITIALIZING: 3,
    TASK.PHASE_RUNNING: 4,
}
TERMINAL_RANK = 10


def is_terminal_workflow(phase: int) -> bool:
    return phase in WORKFLOW_TERMINAL


def is_terminal_node(phase: int) -> bool:
    return phase in NODE_TERMINAL


def is_terminal_task(phase: int) -> bool:
    return phase in TASK_TERMINAL


def workflow_rank(phase: int) -> int:
    return TERMINAL_RANK if phase in WORKFLOW_TERMINAL else _WORKFLOW_RANK.get(phase, 0)  # type: ignore[call-overload]


def node_rank(phase: int) -> int:
    return TERMINAL_RANK if phase in NODE_TERMINAL else _NODE_RANK.get(phase, 0)  # type: ignore[call-overload]


def task_rank(phase: int) -> int:
    return TERMINAL_RANK if phase in TASK_TERMINAL else _TASK_RANK.get(phase, 0)  # type: ignore[call-overload]


def _terminal(current: int, name: str) -> Decision:
    return Decision(Outcome.FAILED_PRECONDITION, current, f"already in terminal state {name}")


def check_workflow_event(current: int | None, new: int) -> Decision:
    """Guard a workflow event moving ``current`` (None: no execution row yet) to ``new``."""
    if new == WF.PHASE_UNSPECIFIED:
        return Decision(Outcome.INVALID_ARGUMENT, current, "event has no phase")
    if current is None or current == WF.PHASE_UNSPECIFIED:
        return Decision(Outcome.ACCEPTED, current)
    name = WF.Name(current)  # type: ignore[arg-type]
    if current == new and new != WF.PHASE_QUEUED:
        return Decision(Outcome.ALREADY_EXISTS, current, f"execution is already {name}")
    if current in WORKFLOW_TERMINAL:
        return _terminal(current, name)
    if current == WF.PHASE_RUNNING and new == WF.PHASE_QUEUED:
        return Decision(
            Outcome.FAILED_PRECONDITION, current, "cannot go from RUNNING back to QUEUED"
        )
    if current == WF.PHASE_ABORTING and new not in WORKFLOW_TERMINAL:
        reason = f"an aborting execution can only become terminal, not {WF.Name(new)}"  # type: ignore[arg-type]
        return Decision(Outcome.FAILED_PRECONDITION, current, reason)
    return Decision(Outcome.ACCEPTED, current)


def check_node_event(current: int | None, new: int) -> Decision:
    """Guard a node event moving ``current`` (None: first event of the node) to ``new``."""
    if new == NODE.PHASE_UNSPECIFIED:
        return Decision(Outcome.INVALID_ARGUMENT, current, "event has no phase")
    if current is None or current == NODE.PHASE_UNSPECIFIED:
        return Decision(Outcome.ACCEPTED, current)
    name = NODE.Name(current)  # type: ignore[arg-type]
    if current == new:
        return Decision(Outcome.ALREADY_EXISTS, current, f"node is already {name}")
    if current in NODE_TERMINAL:
        return _terminal(current, name)
    return Decision(Outcome.ACCEPTED, current)


def check_task_event(
    current: int | None, current_version: int, new: int, new_version: int
) -> Decision:
    """Guard a task event (phase and phase version) against the stored attempt's."""
    if new == TASK.PHASE_UNSPECIFIED:
        return Decision(Outcome.INVALID_ARGUMENT, current, "event has no phase")
    if current is None or current == TASK.PHASE_UNSPECIFIED:
        return Decision(Outcome.ACCEPTED, current)
    name = TASK.Name(current)  # type: ignore[arg-type]
    if current == new and new_version <= current_version:
        reason = f"task attempt is already {name} at phase version {current_version}"
        return Decision(Outcome.ALREADY_EXISTS, current, reason)
    if current in TASK_TERMINAL:
        return _terminal(current, name)
    return Decision(Outcome.ACCEPTED, current)


def supersedes(
    current_rank: int,
    current_phase: int,
    current_version: int,
    new_rank: int,
    new_phase: int,
    new_version: int,
) -> bool:
    """Whether an accepted event should replace the projection's phase: a higher rank, or the
    same phase with a higher phase version. Use with ``*_rank`` of the matching entity."""
    if new_rank != current_rank:
        return new_rank > current_rank
    return new_phase == current_phase and new_version > current_version
