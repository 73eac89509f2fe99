"""Array nodes (map tasks): one attempt chain per item, compact state, bounded parallelism.

Inputs bound to ``list[T]`` where the task takes ``T`` are mapped (split per item); the others
are passed to every item. Item ``i`` runs at path ``<node>.<i>`` with its own attempts and retry
budgets (``ArrayState``: one byte per counter). At most ``parallelism`` items run at once (0: no
limit but the execution's max parallelism, which counts items). The node succeeds when every item
is terminal and at least ``min_successes`` (or ``ceil(min_success_ratio * n)``, default all)
succeeded; it fails as soon as that can no longer happen, aborting the items still running.
Outputs are lists with one entry per item (``None`` for failed items).
"""

from __future__ import annotations

import math

from skyloom_core.validation import validate_literal
from skyloom_idl.core import execution_pb2, literals_pb2, tasks_pb2, workflow_pb2
from skyloom_propeller import events, policy
from skyloom_propeller.attempts import attempt_of, error_of, launch, output_prefix
from skyloom_propeller.commands import AbortAttempt, LaunchAttempt
from skyloom_propeller.context import USER, NodeContext, Transition
from skyloom_propeller.state import ArrayState, ErrorInfo, ItemPhase
from skyloom_propeller.view import AttemptPhase

TASK = execution_pb2.TaskExecution.Phase
_NONE = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))


def _split(
    inputs: literals_pb2.LiteralMap, task: tasks_pb2.TaskTemplate
) -> tuple[list[str], int] | str:
    """The mapped input names and the item count, or an error message."""
    mapped = []
    for var, lit in sorted(inputs.literals.items()):
        want = (
            task.interface.inputs.variables[var].type
            if var in task.interface.inputs.variables
            else None
        )
        if lit.HasField("collection") and (want is None or validate_literal(lit, want, var)):
            mapped.append(var)
    sizes = {len(inputs.literals[v].collection.literals) for v in mapped}
    if len(sizes) > 1:
        return f"mapped inputs {', '.join(mapped)} have different lengths {sorted(sizes)}"
    return mapped, sizes.pop() if sizes else 0


def _needed(arr: workflow_pb2.ArrayNode, n: int) -> int:
    if arr.HasField("min_successes"):
        return min(arr.min_successes, n)
    ratio = arr.min_success_ratio if arr.HasField("min_success_ratio") else 1.0
    return math.ceil(ratio * n - 1e-9)


class ArrayHandler:
    def handle(self, ctx: NodeContext) -> Transition:
        inner = ctx.node.array_node.node
        if not inner.HasField("task_node"):
            return Transition.failed("UnsupportedArrayNode", "only task nodes can be mapped yet")
        task = ctx.task(inner.task_node.reference_id)
        inputs = ctx.inputs()
        if inputs is None:
            return Transition.stay(ctx)
        st = ctx.st
        if "mapped" in st.detail and st.array is not None:
            mapped, n = st.detail["mapped"].split(",") if st.detail["mapped"] else [], st.array.size
        else:
            split = _split(inputs, task)
            if isinstance(split, str):
                return Transition.failed("MismatchingLengths", split)
            mapped, n = split
            st.detail["mapped"] = ",".join(mapped)
        if st.array is None:
            st.array = ArrayState.new(n)
        arr = st.array
        need = _needed(ctx.node.array_node, n)
        self._advance_running(ctx, task, inner, arr)
        failed = arr.phases.count(ItemPhase.FAILED)
        if n - failed < need:
            self.abort(ctx, "too many items failed")
            return Transition.failed(
                "MinSuccessesNotMet", f"{failed} of {n} items failed; {need} must succeed"
            )
        self._start_items(ctx, task, inner, arr, inputs, mapped)
        if arr.phases.count(ItemPhase.NOT_STARTED) or arr.phases.count(ItemPhase.RUNNING):
            return Transition.running()
        return self._collect(ctx, task, arr)

    def _item_error(self, arr: ArrayState, i: int, err: ErrorInfo, b: policy.Budgets) -> bool:
        """Count item ``i``'s failure; True when it gets another attempt."""
        if err.kind == USER:
            arr.user_failures[i] = min(arr.user_failures[i] + 1, 255)
        else:
            arr.system_failures[i] = min(arr.system_failures[i] + 1, 255)
        verdict = policy.after_failure(err, arr.user_failures[i], arr.system_failures[i], b)
        arr.phases[i] = ItemPhase.NOT_STARTED if verdict.retry else ItemPhase.FAILED
        return verdict.retry

    def _advance_running(
        self,
        ctx: NodeContext,
        task: tasks_pb2.TaskTemplate,
        inner: workflow_pb2.Node,
        arr: ArrayState,
    ) -> None:
        rnd = ctx.rnd
        b = policy.budgets(inner, task, rnd.config)
        limit = policy.timeout_s(inner, task, rnd.config)
        i = arr.phases.find(ItemPhase.RUNNING)
        while i >= 0:
            path, attempt = f"{ctx.path}.{i}", arr.attempt(i)
            aid = attempt_of(rnd, path, attempt)
            status = rnd.view.attempt(aid)
            if status is None:
                rnd.emit(self._launch(ctx, task, inner, i))
            elif status.phase == AttemptPhase.SUCCEEDED:
                arr.phases[i] = ItemPhase.SUCCEEDED
                rnd.inflight -= 1
                self._event(ctx, task, i, attempt, TASK.PHASE_SUCCEEDED, outputs=status.outputs_uri)
            elif status.phase != AttemptPhase.RUNNING:
                rnd.inflight -= 1
                err = error_of(status)
                self._event(ctx, task, i, attempt, TASK.PHASE_FAILED, error=err)
                self._item_error(arr, i, err, b)
            elif limit > 0 and rnd.now >= arr.started[i] + limit:
                rnd.inflight -= 1
                rnd.emit(AbortAttempt(aid, f"attempt timed out after {limit:g}s"))
                err = ErrorInfo(
                    policy.TIMEOUT_CODE, f"item {i} ran longer than {limit:g}s", USER, True
                )
                self._event(ctx, task, i, attempt, TASK.PHASE_TIMED_OUT, error=err)
                self._item_error(arr, i, err, b)
            elif limit > 0:
                rnd.wake(arr.started[i] + limit)
            i = arr.phases.find(ItemPhase.RUNNING, i + 1)

    def _start_items(
        self,
        ctx: NodeContext,
        task: tasks_pb2.TaskTemplate,
        inner: workflow_pb2.Node,
        arr: ArrayState,
        inputs: literals_pb2.LiteralMap,
        mapped: list[str],
    ) -> None:
        rnd = ctx.rnd
        cap = ctx.node.array_node.parallelism or arr.size
        running = arr.phases.count(ItemPhase.RUNNING)
        i = arr.phases.find(ItemPhase.NOT_STARTED)
        while i >= 0 and running < cap and rnd.can_launch():
            item = literals_pb2.LiteralMap()
            for var, lit in inputs.literals.items():
                item.literals[var].CopyFrom(lit.collection.literals[i] if var in mapped else lit)
            rnd.write(rnd.data_uri(f"{ctx.path}.{i}", "inputs.pb"), item)
            rnd.emit(self._launch(ctx, task, inner, i))
            arr.phases[i] = ItemPhase.RUNNING
            arr.started[i] = ctx.now
            rnd.inflight += 1
            running += 1
            self._event(ctx, task, i, arr.attempt(i), TASK.PHASE_QUEUED)
            i = arr.phases.find(ItemPhase.NOT_STARTED, i + 1)

    def _launch(
        self, ctx: NodeContext, task: tasks_pb2.TaskTemplate, inner: workflow_pb2.Node, i: int
    ) -> LaunchAttempt:
        arr = ctx.st.array
        assert arr is not None
        b = policy.budgets(inner, task, ctx.rnd.config)
        path = f"{ctx.path}.{i}"
        return launch(
            ctx.rnd, inner, task, node_path=path, retry_attempt=arr.attempt(i),
            inputs_uri=ctx.rnd.data_uri(path, "inputs.pb"),
            interruptible=policy.interruptible(
                inner, task, ctx.scope.compiled.template.metadata.interruptible,
                arr.user_failures[i], arr.system_failures[i], b,
            ),
            timeout_s=policy.timeout_s(inner, task, ctx.rnd.config),
        )  # fmt: skip

    def _event(
        self,
        ctx: NodeContext,
        task: tasks_pb2.TaskTemplate,
        i: int,
        attempt: int,
        phase: int,
        *,
        outputs: str = "",
        error: ErrorInfo | None = None,
    ) -> None:
        path = f"{ctx.path}.{i}"
        events.task_event(
            ctx, task, node_path=path, retry_attempt=attempt, phase=phase,
            inputs_uri=ctx.rnd.data_uri(path, "inputs.pb"),
            handle=attempt_of(ctx.rnd, path, attempt), outputs_uri=outputs, error=error,
        )  # fmt: skip

    def _collect(
        self, ctx: NodeContext, task: tasks_pb2.TaskTemplate, arr: ArrayState
    ) -> Transition:
        outs = task.interface.outputs.variables
        result = literals_pb2.LiteralMap()
        if outs:
            items: list[literals_pb2.LiteralMap | None] = []
            waiting = False
            for i in range(arr.size):
                if arr.phases[i] != ItemPhase.SUCCEEDED:
                    items.append(None)
                    continue
                prefix = output_prefix(ctx.rnd, f"{ctx.path}.{i}", arr.attempt(i))
                got = ctx.rnd.literals(prefix + "/outputs.pb")
                waiting |= got is None
                items.append(got)
            if waiting:
                return Transition.stay(ctx)
            for var in sorted(outs):
                coll = result.literals[var].collection
                for m in items:
                    coll.literals.append(m.literals[var] if m is not None else _NONE)
        uri = ctx.node_uri("outputs.pb")
        ctx.rnd.write(uri, result)
        return Transition.succeeded(uri)

    def abort(self, ctx: NodeContext, reason: str) -> None:
        arr = ctx.st.array
        if arr is None:
            return
        i = arr.phases.find(ItemPhase.RUNNING)
        while i >= 0:
            ctx.rnd.emit(
                AbortAttempt(attempt_of(ctx.rnd, f"{ctx.path}.{i}", arr.attempt(i)), reason)
            )
            arr.phases[i] = ItemPhase.ABORTED
            ctx.rnd.inflight -= 1
            i = arr.phases.find(ItemPhase.RUNNING, i + 1)

    def finalize(self, ctx: NodeContext) -> None:
        return None
