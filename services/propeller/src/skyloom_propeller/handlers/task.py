"""Task nodes: cache lookup and reservation, launch, observe, time out, retry.

Attempt ``k`` of node ``p`` has the deterministic id ``attempt_id(execution, p, k)``. The node
launches attempt ``k + 1`` only after it observed attempt ``k`` terminal (``task_phase``), so a
replayed round can only ever re-issue the launch of the *current* attempt, which backends treat as
adoption. A task that wrote ``futures.pb`` becomes a dynamic node (``handlers.dynamic``).
"""

from __future__ import annotations

from skyloom_core.cache_key import CacheKey, cache_key
from skyloom_core.errors import CacheKeyError
from skyloom_core.phases import TASK_TERMINAL
from skyloom_idl.core import catalog_pb2, execution_pb2, tasks_pb2
from skyloom_propeller import events, policy
from skyloom_propeller.attempts import attempt_of, error_of, launch
from skyloom_propeller.commands import (
    AbortAttempt,
    CacheLookup,
    CachePut,
    LaunchAttempt,
    ReleaseReservation,
    Reserve,
)
from skyloom_propeller.context import USER, NodeContext, Transition
from skyloom_propeller.handlers import dynamic
from skyloom_propeller.state import ErrorInfo
from skyloom_propeller.view import AttemptPhase

TASK = execution_pb2.TaskExecution.Phase
NODE = execution_pb2.NodeExecution.Phase
CACHE = catalog_pb2.CatalogCacheStatus


def _cache_config(ctx: NodeContext, task: tasks_pb2.TaskTemplate) -> tasks_pb2.CacheConfig:
    over = ctx.node.task_node.overrides
    return over.cache if over.HasField("cache") else task.metadata.cache


def _key(ctx: NodeContext, task: tasks_pb2.TaskTemplate) -> CacheKey | None:
    config = _cache_config(ctx, task)
    inputs = ctx.inputs()
    if not config.enabled or inputs is None:
        return None
    try:
        return cache_key(task, inputs, cache=config)
    except CacheKeyError:
        return None


def _key_str(k: CacheKey) -> str:
    return f"{k.project}/{k.domain}/{k.name}/{k.version}/{k.tag}"


class TaskHandler:
    """See the module docstring."""

    def handle(self, ctx: NodeContext) -> Transition:
        st = ctx.st
        if "futures" in st.detail:
            return dynamic.handle(ctx)
        task = ctx.task(ctx.node.task_node.reference_id)
        if st.attempts == 0:
            waiting = self._consult_cache(ctx, task)
            if waiting is not None:
                return waiting
            if ctx.inputs() is None:
                return Transition.stay(ctx)
            return self._start(ctx, task, 0)
        attempt = st.attempts - 1
        if st.task_phase in TASK_TERMINAL:  # a retry is due but did not fit yet
            return self._start(ctx, task, st.attempts)
        aid = attempt_of(ctx.rnd, ctx.path, attempt)
        status = ctx.rnd.view.attempt(aid)
        if status is None:
            # Launched by our state but unknown to the backend (a crash between persisting
            # and launching): re-issue the same launch; the backend adopts if it exists.
            ctx.rnd.emit(self._launch(ctx, task, attempt))
            return Transition.stay(ctx)
        if status.phase == AttemptPhase.RUNNING:
            return self._running(ctx, task, attempt, aid)
        if status.phase == AttemptPhase.SUCCEEDED:
            return self._succeeded(
                ctx, task, attempt, status.outputs_uri, status.futures_uri, status.log_uris
            )
        return self._failed(
            ctx, task, attempt, error_of(status), TASK.PHASE_FAILED, status.log_uris
        )

    def abort(self, ctx: NodeContext, reason: str) -> None:
        st = ctx.st
        if "futures" in st.detail:
            dynamic.abort(ctx, reason)
            return
        if st.attempts == 0 or st.task_phase in TASK_TERMINAL:
            return
        attempt = st.attempts - 1
        task = ctx.task(ctx.node.task_node.reference_id)
        aid = attempt_of(ctx.rnd, ctx.path, attempt)
        ctx.rnd.emit(AbortAttempt(aid, reason))
        st.task_phase = TASK.PHASE_ABORTED
        events.task_event(
            ctx, task, node_path=ctx.path, retry_attempt=attempt, phase=TASK.PHASE_ABORTED,
            inputs_uri=st.inputs_uri, handle=aid, reason=reason,
        )  # fmt: skip

    def finalize(self, ctx: NodeContext) -> None:
        owner = ctx.st.detail.pop("reserved", "")
        if owner:
            ctx.rnd.emit(ReleaseReservation(ctx.st.detail.get("cache_key", ""), owner))

    def _consult_cache(self, ctx: NodeContext, task: tasks_pb2.TaskTemplate) -> Transition | None:
        """``None`` to go ahead and launch, else the transition to return (wait or hit)."""
        st = ctx.st
        if st.cache_status in (
            CACHE.CATALOG_CACHE_STATUS_MISS,
            CACHE.CATALOG_CACHE_STATUS_DISABLED,
        ):
            if "reserved" not in st.detail and _cache_config(ctx, task).serialize:
                return self._reserve(ctx, task)
            return None
        k = _key(ctx, task)
        if k is None:
            if _cache_config(ctx, task).enabled and ctx.inputs() is None:
                return Transition.stay(ctx)
            st.cache_status = CACHE.CATALOG_CACHE_STATUS_DISABLED
            return None
        key = _key_str(k)
        st.detail["cache_key"] = key
        answer = ctx.rnd.view.cache(key)
        if answer is None:
            ctx.rnd.emit(CacheLookup(key, k.project, k.domain, k.name, k.version, k.tag))
            return Transition.stay(ctx)
        if answer.hit:
            st.cache_status = CACHE.CATALOG_CACHE_STATUS_HIT
            return Transition.succeeded(answer.outputs_uri)
        st.cache_status = (
            CACHE.CATALOG_CACHE_STATUS_LOOKUP_FAILURE if answer.failed
            else CACHE.CATALOG_CACHE_STATUS_MISS
        )  # fmt: skip
        if _cache_config(ctx, task).serialize and not answer.failed:
            return self._reserve(ctx, task)
        return None

    def _reserve(self, ctx: NodeContext, task: tasks_pb2.TaskTemplate) -> Transition | None:
        st = ctx.st
        key = st.detail["cache_key"]
        owner = attempt_of(ctx.rnd, ctx.path, 0)
        held = ctx.rnd.view.reservation(key, owner)
        if held is None:
            ctx.rnd.emit(Reserve(key, owner))
            return Transition.stay(ctx)
        if held:
            st.detail["reserved"] = owner
            return None
        # Someone else runs it: re-check the cache (and the reservation) every heartbeat.
        if st.wake_at <= ctx.now:
            st.wake_at = ctx.now + ctx.rnd.config.reservation_heartbeat_s
            k = _key(ctx, task)
            if k is not None:
                ctx.rnd.emit(CacheLookup(key, k.project, k.domain, k.name, k.version, k.tag))
            ctx.rnd.emit(Reserve(key, owner))
            st.cache_status = 0  # look again once the answers are in
        ctx.rnd.wake(st.wake_at)
        return Transition.stay(ctx)

    def _launch(
        self, ctx: NodeContext, task: tasks_pb2.TaskTemplate, attempt: int
    ) -> LaunchAttempt:
        st = ctx.st
        b = policy.budgets(ctx.node, task, ctx.rnd.config)
        wf_interruptible = ctx.scope.compiled.template.metadata.interruptible
        return launch(
            ctx.rnd, ctx.node, task, node_path=ctx.path, retry_attempt=attempt,
            inputs_uri=st.inputs_uri,
            interruptible=policy.interruptible(
                ctx.node, task, wf_interruptible, st.user_failures, st.system_failures, b
            ),
            timeout_s=policy.timeout_s(ctx.node, task, ctx.rnd.config),
        )  # fmt: skip

    def _start(self, ctx: NodeContext, task: tasks_pb2.TaskTemplate, attempt: int) -> Transition:
        st = ctx.st
        if not ctx.rnd.can_launch():
            return Transition.stay(ctx)
        ctx.rnd.inflight += 1
        cmd = self._launch(ctx, task, attempt)
        ctx.rnd.emit(cmd)
        st.attempts = attempt + 1
        st.task_phase = TASK.PHASE_QUEUED
        st.attempt_started_at = ctx.now
        st.handle = cmd.attempt_id
        events.task_event(
            ctx, task, node_path=ctx.path, retry_attempt=attempt, phase=TASK.PHASE_QUEUED,
            inputs_uri=st.inputs_uri, handle=cmd.attempt_id,
        )  # fmt: skip
        return Transition.running()

    def _running(
        self, ctx: NodeContext, task: tasks_pb2.TaskTemplate, attempt: int, aid: str
    ) -> Transition:
        st = ctx.st
        if st.task_phase != TASK.PHASE_RUNNING:
            st.task_phase = TASK.PHASE_RUNNING
            events.task_event(
                ctx, task, node_path=ctx.path, retry_attempt=attempt, phase=TASK.PHASE_RUNNING,
                inputs_uri=st.inputs_uri, handle=aid,
            )  # fmt: skip
        limit = policy.timeout_s(ctx.node, task, ctx.rnd.config)
        if limit > 0:
            deadline = st.attempt_started_at + limit
            if ctx.now >= deadline:
                ctx.rnd.emit(AbortAttempt(aid, f"attempt timed out after {limit:g}s"))
                err = ErrorInfo(
                    policy.TIMEOUT_CODE, f"attempt {attempt} ran longer than {limit:g}s",
                    USER, retryable=True,
                )  # fmt: skip
                return self._failed(ctx, task, attempt, err, TASK.PHASE_TIMED_OUT)
            ctx.rnd.wake(deadline)
        return Transition.running()

    def _succeeded(
        self,
        ctx: NodeContext,
        task: tasks_pb2.TaskTemplate,
        attempt: int,
        outputs_uri: str,
        futures_uri: str,
        logs: tuple[str, ...] = (),
    ) -> Transition:
        st = ctx.st
        aid = attempt_of(ctx.rnd, ctx.path, attempt)
        ctx.rnd.inflight -= 1
        st.task_phase = TASK.PHASE_SUCCEEDED
        events.task_event(
            ctx, task, node_path=ctx.path, retry_attempt=attempt, phase=TASK.PHASE_SUCCEEDED,
            inputs_uri=st.inputs_uri, handle=aid, outputs_uri=outputs_uri or futures_uri,
            logs=logs,
        )  # fmt: skip
        if futures_uri:
            st.detail["futures"] = futures_uri
            return dynamic.handle(ctx)
        if st.cache_status == CACHE.CATALOG_CACHE_STATUS_MISS:
            k = _key(ctx, task)
            if k is not None:
                ctx.rnd.emit(
                    CachePut(st.detail["cache_key"], k.project, k.domain, k.name, k.version,
                             k.tag, outputs_uri, aid)
                )  # fmt: skip
                st.cache_status = CACHE.CATALOG_CACHE_STATUS_POPULATED
        return Transition.succeeded(outputs_uri)

    def _failed(
        self,
        ctx: NodeContext,
        task: tasks_pb2.TaskTemplate,
        attempt: int,
        err: ErrorInfo,
        task_phase: int,
        logs: tuple[str, ...] = (),
    ) -> Transition:
        st = ctx.st
        ctx.rnd.inflight -= 1
        if err.kind == USER:
            st.user_failures += 1
        else:
            st.system_failures += 1
        st.task_phase = task_phase
        aid = attempt_of(ctx.rnd, ctx.path, attempt)
        events.task_event(
            ctx, task, node_path=ctx.path, retry_attempt=attempt, phase=task_phase,
            inputs_uri=st.inputs_uri, handle=aid, error=err, logs=logs,
        )  # fmt: skip
        b = policy.budgets(ctx.node, task, ctx.rnd.config)
        verdict = policy.after_failure(err, st.user_failures, st.system_failures, b)
        if verdict.retry:
            return self._start(ctx, task, attempt + 1)
        st.error = verdict.error
        e = verdict.error
        return Transition.failed(e.code, e.message, kind=e.kind, uri=e.uri)
