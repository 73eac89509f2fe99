"""Task attempts shared by the task and array handlers: ids, layout, launch commands, and
turning a backend's ``AttemptStatus`` into an ``ErrorInfo``."""

from __future__ import annotations

from skyloom_core.ids import attempt_id
from skyloom_idl.core import execution_pb2, identifier_pb2, tasks_pb2, workflow_pb2
from skyloom_propeller.commands import LaunchAttempt
from skyloom_propeller.context import SYSTEM, USER, Round
from skyloom_propeller.state import ErrorInfo, ExecutionState, ItemPhase
from skyloom_propeller.view import AttemptPhase, AttemptStatus


def attempt_of(rnd: Round, node_path: str, retry_attempt: int) -> str:
    """The deterministic attempt id (a DNS label) of ``node_path``'s attempt."""
    return attempt_id(rnd.execution_id, node_path, retry_attempt)


def output_prefix(rnd: Round, node_path: str, retry_attempt: int) -> str:
    return rnd.data_uri(node_path, str(retry_attempt))


def launch(
    rnd: Round,
    node: workflow_pb2.Node,
    task: tasks_pb2.TaskTemplate,
    *,
    node_path: str,
    retry_attempt: int,
    inputs_uri: str,
    interruptible: bool,
    timeout_s: float,
) -> LaunchAttempt:
    """The launch command of one attempt (resources: the node's overrides win per entry)."""
    resources = tasks_pb2.Resources()
    resources.CopyFrom(task.container.resources)
    over = node.task_node.overrides.resources
    for field in ("requests", "limits"):
        merged = {e.name: e.value for e in getattr(resources, field)}
        merged.update({e.name: e.value for e in getattr(over, field)})
        entries = getattr(resources, field)
        del entries[:]
        for name in sorted(merged):
            entries.add(name=name, value=merged[name])
    if over.accelerator:
        resources.accelerator = over.accelerator
    prefix = output_prefix(rnd, node_path, retry_attempt)
    return LaunchAttempt(
        attempt_id=attempt_of(rnd, node_path, retry_attempt),
        node_path=node_path,
        retry_attempt=retry_attempt,
        task=task,
        inputs_uri=inputs_uri,
        output_prefix=prefix,
        raw_output_prefix=rnd.data_uri("raw", node_path, str(retry_attempt)),
        resources=resources,
        interruptible=interruptible,
        timeout_s=timeout_s,
        env=(
            ("SKYLOOM_EXECUTION_ID", rnd.state.name),
            ("SKYLOOM_NODE_ID", node_path),
            ("SKYLOOM_ATTEMPT", str(retry_attempt)),
        ),
    )


def error_of(status: AttemptStatus) -> ErrorInfo:
    """The failure a FAILED or ABORTED status stands for (an attempt aborted by someone else
    than the engine is a retryable SYSTEM error)."""
    if status.phase == AttemptPhase.ABORTED:
        return ErrorInfo("Aborted", status.error_message or "attempt was aborted", SYSTEM, True)
    kind = status.error_kind if status.error_kind in (USER, SYSTEM) else SYSTEM
    return ErrorInfo(
        code=status.error_code or "UnknownError",
        message=status.error_message,
        kind=kind,
        retryable=status.retryable,
        uri=status.error_uri,
    )


def running_attempts(state: ExecutionState) -> list[str]:
    """Ids of every attempt the state says is in flight: what a (re)started shell must ask its
    backends about before the next round, so the view reflects adopted attempts."""
    exe = identifier_pb2.WorkflowExecutionIdentifier(
        project=state.project, domain=state.domain, name=state.name
    )
    active = (execution_pb2.TaskExecution.PHASE_QUEUED, execution_pb2.TaskExecution.PHASE_RUNNING)
    out = []
    for path, st in sorted(state.nodes.items()):
        if st.array is not None:
            arr = st.array
            i = arr.phases.find(ItemPhase.RUNNING)
            while i >= 0:
                out.append(attempt_id(exe, f"{path}.{i}", arr.attempt(i)))
                i = arr.phases.find(ItemPhase.RUNNING, i + 1)
        elif st.handle and st.attempts and st.task_phase in active:
            out.append(st.handle)
    return out
