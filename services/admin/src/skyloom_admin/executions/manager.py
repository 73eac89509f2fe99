"""Executions: create (from a launch plan or a single task), read, list, terminate, relaunch,
recover, archive, and their data. No gRPC here; errors are the domain errors of
``skyloom_common.errors``.

CreateExecution in three steps: (1) a read transaction resolves the project, the target and
the attributes and checks the name is free; (2) the merged inputs (and, once per workflow
version, its compiled closure) go to the blob store with ``put_if_absent``, so a retried or
racing create never overwrites another execution's inputs; (3) one write transaction decides
admission (concurrency policy, quota), inserts the row and enqueues the start work item in the
outbox, or records the execution as QUEUED (waiting) through the event log.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from skyloom_admin.events.projection import ADMIN_PRODUCER
from skyloom_admin.events.rows import EXECUTION_COLUMNS, execution_from_row, timestamp
from skyloom_admin.events.store import EventStore
from skyloom_admin.executions import admission, plan
from skyloom_admin.executions.entities import AttributeSource, EntitySource
from skyloom_common.db import Connection, transaction
from skyloom_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from skyloom_common.outbox import Outbox
from skyloom_core import blob, ids, phases
from skyloom_idl.admin import common_pb2, execution_pb2
from skyloom_idl.core import execution_pb2 as core_exec
from skyloom_idl.core import identifier_pb2, literals_pb2
from skyloom_idl.event import event_pb2, work_pb2

__all__ = ["ExecutionConfig", "ExecutionManager"]

WF = core_exec.WorkflowExecution.Phase
Mode = execution_pb2.ExecutionMetadata.Mode
_TARGET_CACHE = 1024


@dataclass(frozen=True)
class ExecutionConfig:
    """``max_inline_bytes``: inline inputs in a request, and the size up to which data is
    returned inline (GetVersion's max_inline_data_bytes). ``work_shards``: subjects
    ``skyloom.work.<0..n-1>``."""

    max_inline_bytes: int = 1024 * 1024
    work_shards: int = 1
    work_subject_prefix: str = "skyloom.work"


class ExecutionManager:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: blob.BlobStore,
        entities: EntitySource,
        attributes: AttributeSource,
        events: EventStore,
        outbox: Outbox,
        config: ExecutionConfig | None = None,
    ) -> None:
        self._pool = pool
        self._store = store
        self._entities = entities
        self._attributes = attributes
        self._events = events
        self._outbox = outbox
        self.config = config or ExecutionConfig()
        self._closures_written: set[str] = set()
        self._targets: dict[str, plan.Target] = {}

    def work_subject(self, execution: identifier_pb2.WorkflowExecutionIdentifier) -> str:
        shard = plan.work_shard(execution, self.config.work_shards)
        return f"{self.config.work_subject_prefix}.{shard}"

    # -- create ---------------------------------------------------------------------------

    async def create(
        self,
        request: execution_pb2.CreateExecutionRequest,
        principal: str,
        *,
        drop_fixed: bool = False,
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        plan.check_create(request, max_inline_bytes=self.config.max_inline_bytes)
        p, d = request.project, request.domain
        eid = identifier_pb2.WorkflowExecutionIdentifier(
            project=p, domain=d, name=request.name or plan.generate_name()
        )
        # Reads only (no transaction needed); the write transaction below is the one that counts.
        async with self._pool.acquire() as conn:
            await self._entities.check_project(conn, p, d)
            target = await self._target(conn, request.spec)
            attrs = await self._attributes.effective(conn, p, d, target.workflow_id.name)
            await self._check_free(conn, eid)
        given = literals_pb2.LiteralMap()
        given.CopyFrom(request.inputs)
        if drop_fixed:
            for name in target.fixed.literals:
                given.literals.pop(name, None)
        merged = plan.merge_inputs(given, target.expected, target.fixed)
        spec = plan.effective_spec(request.spec, target.launch_plan, attrs)
        meta = spec.metadata
        meta.principal = principal
        if meta.mode == Mode.MODE_UNSPECIFIED:
            meta.mode = Mode.MODE_MANUAL
        prefix = f"{p}/{d}/{eid.name}"
        inputs_uri = await self._put_once(f"{prefix}/inputs.pb", merged.SerializeToString(), eid)
        closure_uri = await self._closure_uri(target)
        now = datetime.now(UTC)
        item = work_pb2.WorkItem(
            work_id=plan.work_id("start", eid), execution_id=eid, created_at=timestamp(now)
        )
        start = item.start
        start.spec.CopyFrom(spec)
        start.workflow_id.CopyFrom(target.workflow_id)
        start.closure_uri = closure_uri
        start.inputs_uri = inputs_uri
        start.data_prefix = self._store.uri(prefix)
        if attrs.HasField("task_resources"):
            start.task_resources.CopyFrom(attrs.task_resources)
        start.resource_quotas.extend(attrs.quota.resource_quotas)
        closure = execution_pb2.ExecutionClosure(
            phase=WF.PHASE_UNSPECIFIED,
            created_at=timestamp(now),
            updated_at=timestamp(now),
            workflow_id=target.workflow_id,
            inputs_uri=inputs_uri,
            notifications=list(spec.notifications.notifications),
            state_change_details=execution_pb2.ExecutionStateChangeDetails(
                state=execution_pb2.ExecutionStateChangeDetails.STATE_ACTIVE,
                occurred_at=timestamp(now),
                principal=principal,
            ),
        )
        quota = (
            attrs.quota.max_concurrent_executions
            if attrs.quota.HasField("max_concurrent_executions")
            else None
        )
        limits = admission.limits_for(target.launch_plan, quota)
        lp = (
            target.launch_plan.id if target.launch_plan is not None else identifier_pb2.Identifier()
        )
        async with transaction(self._pool) as conn:
            decision = await admission.admit(conn, p, d, limits)
            seq = await conn.fetchval(
                "INSERT INTO executions (project, domain, name, phase, mode, principal,"
                " launch_plan_name, launch_plan_version, workflow_name, workflow_version,"
                " task_name, parent_name, labels, spec, closure, start_item, dispatched,"
                " lp_limit, quota_limit, created_at, updated_at) VALUES ($1, $2, $3, 0, $4, $5,"
                " $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16, $17, $18, $19, $19)"
                " ON CONFLICT DO NOTHING RETURNING seq",
                p, d, eid.name, meta.mode, principal, lp.name, lp.version,
                target.workflow_id.name, target.workflow_id.version,
                request.spec.task.name if request.spec.HasField("task") else "",
                meta.parent_node_execution.execution_id.name,
                _json(dict(spec.labels.values)), spec.SerializeToString(),
                closure.SerializeToString(), item.SerializeToString(), decision.start_now,
                limits.per_launch_plan, limits.per_project_domain, now,
            )  # fmt: skip
            if seq is None:
                raise _exists(eid)
            if decision.start_now:
                await self._outbox.enqueue(
                    conn, self.work_subject(eid), item.SerializeToString(), item.work_id
                )
            else:
                await self._admin_event(conn, eid, WF.PHASE_QUEUED, decision.reason, principal)
        return eid

    async def _check_free(
        self, conn: Connection, eid: identifier_pb2.WorkflowExecutionIdentifier
    ) -> None:
        if await conn.fetchval(
            "SELECT true FROM executions WHERE project = $1 AND domain = $2 AND name = $3",
            eid.project, eid.domain, eid.name,
        ):  # fmt: skip
            raise _exists(eid)

    async def _target(self, conn: Connection, spec: execution_pb2.ExecutionSpec) -> plan.Target:
        """The resolved target, cached per launch plan or task version: registered entities
        never change (immutable by project, domain, name and version), and resolving one means
        two reads, parsing a compiled closure and, for a task, compiling its wrapper."""
        kind = "task" if spec.HasField("task") else "lp"
        ref = spec.task if kind == "task" else spec.launch_plan
        key = f"{kind}:{ref.project}/{ref.domain}/{ref.name}@{ref.version}"
        cached = self._targets.get(key)
        if cached is not None:
            return cached
        target = await self._resolve(conn, spec)
        if len(self._targets) >= _TARGET_CACHE:
            self._targets.pop(next(iter(self._targets)))
        self._targets[key] = target
        return target

    async def _resolve(self, conn: Connection, spec: execution_pb2.ExecutionSpec) -> plan.Target:
        if spec.HasField("task"):
            return plan.single_task_target(await self._entities.task(conn, spec.task))
        lp = await self._entities.launch_plan(conn, spec.launch_plan)
        wf = await self._entities.workflow(conn, lp.spec.workflow_id)
        return plan.Target(
            workflow_id=wf.id,
            closure=wf.closure.compiled_workflow,
            expected=plan.with_fixed(
                lp.closure.expected_inputs,
                lp.spec.fixed_inputs,
                wf.closure.compiled_workflow.primary.template.interface.inputs,
            ),
            fixed=lp.spec.fixed_inputs,
            launch_plan=lp,
        )

    async def _put_once(
        self, key: str, data: bytes, eid: identifier_pb2.WorkflowExecutionIdentifier
    ) -> str:
        try:
            await self._store.put_if_absent(key, data)
            return self._store.uri(key)
        except blob.AlreadyExists:
            raise _exists(eid) from None

    async def _closure_uri(self, target: plan.Target) -> str:
        w = target.workflow_id
        data = target.closure.SerializeToString(deterministic=True)
        digest = hashlib.sha256(data).hexdigest()[:16]
        key = f"closures/{w.project}/{w.domain}/{w.name}/{w.version}/{digest}.pb"
        if key not in self._closures_written:
            await self._store.put_if_absent(key, data)
            self._closures_written.add(key)
        return self._store.uri(key)

    async def _admin_event(
        self,
        conn: Connection,
        eid: identifier_pb2.WorkflowExecutionIdentifier,
        phase: int,
        reason: str,
        principal: str,
    ) -> None:
        event = event_pb2.WorkflowExecutionEvent(
            event_id=ids.event_id(eid, phase),
            execution_id=eid,
            producer_id=ADMIN_PRODUCER + principal,
            phase=phase,  # type: ignore[arg-type]
            occurred_at=timestamp(datetime.now(UTC)),
            reason=reason,
        )
        await self._events.apply_workflow(conn, event)

    # -- read -----------------------------------------------------------------------------

    async def get(self, eid: identifier_pb2.WorkflowExecutionIdentifier) -> execution_pb2.Execution:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {EXECUTION_COLUMNS} FROM executions WHERE project = $1 AND domain = $2"
                " AND name = $3",
                eid.project, eid.domain, eid.name,
            )  # fmt: skip
        if row is None:
            raise _missing(eid)
        return execution_from_row(row)

    async def data(
        self, eid: identifier_pb2.WorkflowExecutionIdentifier
    ) -> execution_pb2.GetExecutionDataResponse:
        execution = await self.get(eid)
        closure = execution.closure
        out = execution_pb2.GetExecutionDataResponse()
        out.inputs.CopyFrom(await self.literal_ref(closure.inputs_uri))
        if closure.HasField("outputs"):
            data = closure.outputs.SerializeToString()
            out.outputs.size_bytes = len(data)
            if len(data) <= self.config.max_inline_bytes:
                out.outputs.inline.CopyFrom(closure.outputs)
        elif closure.outputs_uri:
            out.outputs.CopyFrom(await self.literal_ref(closure.outputs_uri))
        return out

    async def literal_ref(self, uri: str) -> common_pb2.LiteralMapRef:
        """A URI as a LiteralMapRef: size always, the map inline when small enough."""
        ref = common_pb2.LiteralMapRef(uri=uri)
        if not uri:
            return ref
        key = _key_of(self._store, uri)
        if key is None:
            return ref  # outside our store: URI only
        try:
            info = await self._store.head(key)
        except blob.NotFound:
            return ref
        ref.size_bytes = info.size
        if info.size <= self.config.max_inline_bytes:
            ref.inline.ParseFromString(await self._store.get_bytes(key))
        return ref

    # -- change ---------------------------------------------------------------------------

    async def terminate(
        self, eid: identifier_pb2.WorkflowExecutionIdentifier, cause: str, principal: str
    ) -> None:
        async with transaction(self._pool) as conn:
            row = await conn.fetchrow(
                "SELECT phase, dispatched FROM executions WHERE project = $1 AND domain = $2"
                " AND name = $3 FOR UPDATE",
                eid.project, eid.domain, eid.name,
            )  # fmt: skip
            if row is None:
                raise _missing(eid)
            phase = row["phase"]
            if phase in (WF.PHASE_ABORTING, WF.PHASE_ABORTED):
                return  # idempotent
            if phases.is_terminal_workflow(phase):
                raise FailedPrecondition(
                    f"execution {eid.name} is already {WF.Name(phase)}",
                    reason="ALREADY_IN_TERMINAL_STATE",
                    metadata={"current_phase": WF.Name(phase)},
                )
            if not row["dispatched"]:  # never started: nothing to stop
                await conn.execute(
                    "UPDATE executions SET dispatched = true WHERE project = $1 AND domain = $2"
                    " AND name = $3",
                    eid.project, eid.domain, eid.name,
                )  # fmt: skip
                await self._admin_event(conn, eid, WF.PHASE_ABORTING, cause, principal)
                await self._admin_event(conn, eid, WF.PHASE_ABORTED, cause, principal)
                return
            await self._admin_event(conn, eid, WF.PHASE_ABORTING, cause, principal)
            item = work_pb2.WorkItem(
                work_id=plan.work_id("abort", eid),
                execution_id=eid,
                created_at=timestamp(datetime.now(UTC)),
                abort=work_pb2.AbortExecution(cause=cause, principal=principal),
            )
            await self._outbox.enqueue(
                conn, self.work_subject(eid), item.SerializeToString(), item.work_id
            )

    async def update_state(
        self,
        eid: identifier_pb2.WorkflowExecutionIdentifier,
        state: int,
        principal: str,
    ) -> None:
        if state not in (
            execution_pb2.ExecutionStateChangeDetails.STATE_ACTIVE,
            execution_pb2.ExecutionStateChangeDetails.STATE_ARCHIVED,
        ):
            raise InvalidArgument.for_field("state", "must be STATE_ACTIVE or STATE_ARCHIVED")
        async with transaction(self._pool) as conn:
            row = await conn.fetchrow(
                "SELECT closure FROM executions WHERE project = $1 AND domain = $2 AND name = $3"
                " FOR UPDATE",
                eid.project, eid.domain, eid.name,
            )  # fmt: skip
            if row is None:
                raise _missing(eid)
            closure = execution_pb2.ExecutionClosure()
            closure.ParseFromString(row["closure"])
            if closure.state_change_details.state == state:
                return
            details = closure.state_change_details
            details.state = state  # type: ignore[assignment]
            details.occurred_at.CopyFrom(timestamp(datetime.now(UTC)))
            details.principal = principal
            await conn.execute(
                "UPDATE executions SET state = $4, closure = $5, updated_at = now()"
                " WHERE project = $1 AND domain = $2 AND name = $3",
                eid.project, eid.domain, eid.name, state, closure.SerializeToString(),
            )  # fmt: skip

    async def relaunch(
        self,
        eid: identifier_pb2.WorkflowExecutionIdentifier,
        name: str,
        principal: str,
        *,
        mode: int = Mode.MODE_RELAUNCH,
        overwrite_cache: bool = False,
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """A new execution with the original's spec and inputs (RELAUNCH), or, for RECOVERED,
        referencing the original so the engine copies the outputs of nodes that succeeded."""
        original = await self.get(eid)
        if mode == Mode.MODE_RECOVERED and not phases.is_terminal_workflow(original.closure.phase):
            raise FailedPrecondition(
                f"execution {eid.name} is {WF.Name(original.closure.phase)}; only a finished "
                "execution can be recovered",
                reason="NOT_TERMINAL",
            )
        request = execution_pb2.CreateExecutionRequest(
            project=eid.project, domain=eid.domain, name=name, spec=original.spec
        )
        key = _key_of(self._store, original.closure.inputs_uri)
        if key is not None:
            request.inputs.ParseFromString(await self._store.get_bytes(key))
        meta = request.spec.metadata
        meta.mode = mode  # type: ignore[assignment]
        meta.reference_execution.CopyFrom(eid)
        request.spec.overwrite_cache = request.spec.overwrite_cache or overwrite_cache
        return await self.create(request, principal, drop_fixed=True)


def _json(value: dict[str, str]) -> str:
    return json.dumps(value)


def _key_of(store: blob.BlobStore, uri: str) -> str | None:
    try:
        return store.key_of(uri)
    except blob.InvalidKey:
        return None


def _exists(eid: identifier_pb2.WorkflowExecutionIdentifier) -> AlreadyExists:
    return AlreadyExists(
        f"execution {eid.project}/{eid.domain}/{eid.name} already exists",
        reason="EXECUTION_EXISTS",
    )


def _missing(eid: identifier_pb2.WorkflowExecutionIdentifier) -> NotFound:
    return NotFound(
        f"execution {eid.project}/{eid.domain}/{eid.name} not found",
        resource=f"execution:{eid.project}/{eid.domain}/{eid.name}",
    )
