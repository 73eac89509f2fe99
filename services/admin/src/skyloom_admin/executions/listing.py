"""ListExecutions: the allow-list of filterable fields (as documented on the request)."""

from __future__ import annotations

import asyncpg

from skyloom_admin.events.rows import EXECUTION_COLUMNS, execution_from_row
from skyloom_admin.events.validate import raise_if
from skyloom_admin.listing import Column, Kind, Listing, Sql
from skyloom_core import names
from skyloom_idl.admin import execution_pb2
from skyloom_idl.core import execution_pb2 as core_exec

__all__ = ["EXECUTION_LISTING", "list_executions"]

EXECUTION_LISTING = Listing(
    columns={
        "name": Column("name"),
        "phase": Column(
            "phase", Kind.ENUM, enum_values=dict(core_exec.WorkflowExecution.Phase.items())
        ),
        "mode": Column(
            "mode", Kind.ENUM, enum_values=dict(execution_pb2.ExecutionMetadata.Mode.items())
        ),
        "principal": Column("principal"),
        "state": Column(
            "state",
            Kind.ENUM,
            enum_values=dict(execution_pb2.ExecutionStateChangeDetails.State.items()),
        ),
        "created_at": Column("created_at", Kind.TIME),
        "started_at": Column("started_at", Kind.TIME),
        "updated_at": Column("updated_at", Kind.TIME),
        "duration": Column(
            "extract(epoch FROM (coalesce(ended_at, now()) - started_at))::bigint", Kind.INT
        ),
        "launch_plan.name": Column("launch_plan_name"),
        "launch_plan.version": Column("launch_plan_version"),
        "workflow.name": Column("workflow_name"),
        "workflow.version": Column("workflow_version"),
        "task.name": Column("task_name"),
        "parent.name": Column("parent_name"),
    },
    tiebreak="seq",
    labels="labels",
)


async def list_executions(
    pool: asyncpg.Pool, request: execution_pb2.ListExecutionsRequest
) -> execution_pb2.ListExecutionsResponse:
    out = names.validate_project(request.project, "project")
    out += names.validate_domain(request.domain, "domain")
    raise_if(out, "ListExecutions request")
    sql = Sql()
    where = [f"project = {sql.param(request.project)}", f"domain = {sql.param(request.domain)}"]
    page = EXECUTION_LISTING.query(sql, request.filter_by, request.sort_by, request.page)
    where += page.where
    if not any(f.field == "state" for f in request.filter_by):
        where.append("state <> 2")  # archived ones only when asked for
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {EXECUTION_COLUMNS}, {EXECUTION_LISTING.select_keys(request.sort_by)}"
            f" FROM executions WHERE {' AND '.join(where)}"
            f" ORDER BY {page.order_by} LIMIT {page.fetch_limit}",
            *sql.params,
        )
    rows, token = page.finish(rows)
    return execution_pb2.ListExecutionsResponse(
        executions=[execution_from_row(r) for r in rows], next_token=token
    )
