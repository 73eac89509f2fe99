"""Node and task executions: read, list and their data (projections kept by event ingestion)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from skyloom_admin.listing import Column, Kind, Listing, Sql
from skyloom_common.db import Connection
from skyloom_common.errors import NotFound
from skyloom_idl.admin import common_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.core import catalog_pb2, identifier_pb2
from skyloom_idl.core import execution_pb2 as core_exec

__all__ = ["NODE_LISTING", "TASK_LISTING", "NodeExecutionManager", "node_from_row", "task_from_row"]

LiteralRef = Callable[[str], Awaitable[common_pb2.LiteralMapRef]]


NODE_LISTING = Listing(
    columns={
        "node_id": Column("node_id"),
        "phase": Column(
            "phase", Kind.ENUM, enum_values=dict(core_exec.NodeExecution.Phase.items())
        ),
        "created_at": Column("created_at", Kind.TIME),
        "started_at": Column("started_at", Kind.TIME),
        "updated_at": Column("updated_at", Kind.TIME),
        "duration": Column(
            "extract(epoch FROM (coalesce(ended_at, now()) - started_at))::bigint", Kind.INT
        ),
        "cache_status": Column(
            "cache_status", Kind.ENUM, enum_values=dict(catalog_pb2.CatalogCacheStatus.items())
        ),
    },
    tiebreak="seq",
    default_ascending=True,
)

TASK_LISTING = Listing(
    columns={
        "phase": Column(
            "phase", Kind.ENUM, enum_values=dict(core_exec.TaskExecution.Phase.items())
        ),
        "retry_attempt": Column("retry_attempt", Kind.INT),
        "created_at": Column("created_at", Kind.TIME),
        "started_at": Column("started_at", Kind.TIME),
        "updated_at": Column("updated_at", Kind.TIME),
    },
    tiebreak="seq",
    default_sort="retry_attempt",
    default_ascending=True,
)

_NODE_COLS = "node_id, input_uri, closure, metadata"
_TASK_COLS = (
    "node_id, retry_attempt, task_project, task_domain, task_name, task_version, input_uri,"
    " closure, is_parent"
)


def node_from_row(
    row: asyncpg.Record, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> node_execution_pb2.NodeExecution:
    node = node_execution_pb2.NodeExecution(input_uri=row["input_uri"])
    node.id.node_id = row["node_id"]
    node.id.execution_id.CopyFrom(execution)
    node.closure.ParseFromString(row["closure"])
    node.metadata.ParseFromString(row["metadata"])
    return node


def task_from_row(
    row: asyncpg.Record, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> task_execution_pb2.TaskExecution:
    task = task_execution_pb2.TaskExecution(input_uri=row["input_uri"], is_parent=row["is_parent"])
    task.id.task_id.resource_type = identifier_pb2.RESOURCE_TYPE_TASK
    task.id.task_id.project = row["task_project"]
    task.id.task_id.domain = row["task_domain"]
    task.id.task_id.name = row["task_name"]
    task.id.task_id.version = row["task_version"]
    task.id.node_execution_id.node_id = row["node_id"]
    task.id.node_execution_id.execution_id.CopyFrom(execution)
    task.id.retry_attempt = row["retry_attempt"]
    task.closure.ParseFromString(row["closure"])
    return task


def _outputs_ref(
    closure: node_execution_pb2.NodeExecutionClosure | task_execution_pb2.TaskExecutionClosure,
    max_inline: int,
) -> common_pb2.LiteralMapRef | None:
    if closure.HasField("outputs"):
        ref = common_pb2.LiteralMapRef(size_bytes=closure.outputs.ByteSize())
        if ref.size_bytes <= max_inline:
            ref.inline.CopyFrom(closure.outputs)
        return ref
    return None


class NodeExecutionManager:
    def __init__(self, pool: asyncpg.Pool, literal_ref: LiteralRef, max_inline_bytes: int) -> None:
        self._pool = pool
        self._literal_ref = literal_ref
        self._max_inline = max_inline_bytes

    async def _require_execution(
        self, conn: Connection, e: identifier_pb2.WorkflowExecutionIdentifier
    ) -> None:
        if not await conn.fetchval(
            "SELECT true FROM executions WHERE project = $1 AND domain = $2 AND name = $3",
            e.project, e.domain, e.name,
        ):  # fmt: skip
            raise NotFound(
                f"execution {e.project}/{e.domain}/{e.name} not found",
                resource=f"execution:{e.project}/{e.domain}/{e.name}",
            )

    async def get_node(
        self, id: identifier_pb2.NodeExecutionIdentifier
    ) -> node_execution_pb2.NodeExecution:
        e = id.execution_id
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_NODE_COLS} FROM node_executions WHERE project = $1 AND domain = $2"
                " AND execution_name = $3 AND node_id = $4 ORDER BY retry_group DESC LIMIT 1",
                e.project, e.domain, e.name, id.node_id,
            )  # fmt: skip
        if row is None:
            raise NotFound(
                f"node {id.node_id} of execution {e.name} not found",
                resource=f"node_execution:{e.project}/{e.domain}/{e.name}/{id.node_id}",
            )
        return node_from_row(row, e)

    async def list_nodes(
        self, request: node_execution_pb2.ListNodeExecutionsRequest
    ) -> node_execution_pb2.ListNodeExecutionsResponse:
        e = request.execution_id
        sql = Sql()
        where = [
            f"project = {sql.param(e.project)}", f"domain = {sql.param(e.domain)}",
            f"execution_name = {sql.param(e.name)}",
            f"parent_node_id = {sql.param(request.parent_node_id)}",
        ]  # fmt: skip
        page = NODE_LISTING.query(sql, request.filter_by, request.sort_by, request.page)
        where += page.where
        async with self._pool.acquire() as conn:
            await self._require_execution(conn, e)
            rows = await conn.fetch(
                f"SELECT {_NODE_COLS}, {NODE_LISTING.select_keys(request.sort_by)}"
                f" FROM node_executions WHERE {' AND '.join(where)}"
                f" ORDER BY {page.order_by} LIMIT {page.fetch_limit}",
                *sql.params,
            )
        rows, token = page.finish(rows)
        return node_execution_pb2.ListNodeExecutionsResponse(
            node_executions=[node_from_row(r, e) for r in rows], next_token=token
        )

    async def node_data(
        self, id: identifier_pb2.NodeExecutionIdentifier
    ) -> node_execution_pb2.GetNodeExecutionDataResponse:
        node = await self.get_node(id)
        out = node_execution_pb2.GetNodeExecutionDataResponse()
        out.inputs.CopyFrom(await self._literal_ref(node.input_uri))
        inline = _outputs_ref(node.closure, self._max_inline)
        if inline is not None:
            out.outputs.CopyFrom(inline)
        elif node.closure.outputs_uri:
            out.outputs.CopyFrom(await self._literal_ref(node.closure.outputs_uri))
        if node.closure.HasField("dynamic_workflow"):
            out.dynamic_workflow.CopyFrom(node.closure.dynamic_workflow)
        return out

    async def get_task(
        self, id: identifier_pb2.TaskExecutionIdentifier
    ) -> task_execution_pb2.TaskExecution:
        n = id.node_execution_id
        e = n.execution_id
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_TASK_COLS} FROM task_executions WHERE project = $1 AND domain = $2"
                " AND execution_name = $3 AND node_id = $4 AND retry_attempt = $5",
                e.project, e.domain, e.name, n.node_id, id.retry_attempt,
            )  # fmt: skip
        if row is None:
            raise NotFound(
                f"attempt {id.retry_attempt} of node {n.node_id} of execution {e.name} not found",
                resource=f"task_execution:{e.project}/{e.domain}/{e.name}/{n.node_id}/{id.retry_attempt}",
            )
        return task_from_row(row, e)

    async def list_tasks(
        self, request: task_execution_pb2.ListTaskExecutionsRequest
    ) -> task_execution_pb2.ListTaskExecutionsResponse:
        n = request.node_execution_id
        e = n.execution_id
        sql = Sql()
        where = [
            f"project = {sql.param(e.project)}", f"domain = {sql.param(e.domain)}",
            f"execution_name = {sql.param(e.name)}", f"node_id = {sql.param(n.node_id)}",
        ]  # fmt: skip
        page = TASK_LISTING.query(sql, request.filter_by, request.sort_by, request.page)
        where += page.where
        async with self._pool.acquire() as conn:
            await self._require_execution(conn, e)
            rows = await conn.fetch(
                f"SELECT {_TASK_COLS}, {TASK_LISTING.select_keys(request.sort_by)}"
                f" FROM task_executions WHERE {' AND '.join(where)}"
                f" ORDER BY {page.order_by} LIMIT {page.fetch_limit}",
                *sql.params,
            )
        rows, token = page.finish(rows)
        return task_execution_pb2.ListTaskExecutionsResponse(
            task_executions=[task_from_row(r, e) for r in rows], next_token=token
        )

    async def task_data(
        self, id: identifier_pb2.TaskExecutionIdentifier
    ) -> task_execution_pb2.GetTaskExecutionDataResponse:
        task = await self.get_task(id)
        out = task_execution_pb2.GetTaskExecutionDataResponse()
        out.inputs.CopyFrom(await self._literal_ref(task.input_uri))
        inline = _outputs_ref(task.closure, self._max_inline)
        if inline is not None:
            out.outputs.CopyFrom(inline)
        elif task.closure.outputs_uri:
            out.outputs.CopyFrom(await self._literal_ref(task.closure.outputs_uri))
        return out
