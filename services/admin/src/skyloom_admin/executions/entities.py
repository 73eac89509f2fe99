"""What CreateExecution needs from the rest of admin: projects, registered entities, attributes.

Small Protocols, so the execution manager is tested with in-memory fakes; the Postgres
implementation reads the registry's tables (same schema, revision 0001) through the
caller's connection, inside the create transaction.
"""

from __future__ import annotations

from typing import Protocol

from skyloom_common.db import Connection
from skyloom_common.errors import FailedPrecondition, NotFound
from skyloom_idl.admin import attributes_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from skyloom_idl.core import identifier_pb2

__all__ = [
    "AttributeSource",
    "EntitySource",
    "ManagerAttributes",
    "NoAttributes",
    "PostgresEntities",
]

_PROJECT_ARCHIVED = 2


def _key(i: identifier_pb2.Identifier) -> str:
    return f"{i.project}/{i.domain}/{i.name}@{i.version}"


class EntitySource(Protocol):
    """Registered entities, read in the caller's transaction. Raise ``NotFound`` when missing."""

    async def check_project(self, conn: Connection, project: str, domain: str) -> None:
        """``NotFound`` for an unknown project, ``FailedPrecondition`` for an archived one."""

    async def launch_plan(
        self, conn: Connection, id: identifier_pb2.Identifier
    ) -> launch_plan_pb2.LaunchPlan: ...

    async def workflow(
        self, conn: Connection, id: identifier_pb2.Identifier
    ) -> workflow_pb2.Workflow: ...

    async def task(self, conn: Connection, id: identifier_pb2.Identifier) -> task_pb2.Task: ...


class AttributeSource(Protocol):
    """The effective matchable attributes of an execution's scope (workflow > project-domain >
    project > configuration); the launch plan and the execution spec override them."""

    async def effective(
        self, conn: Connection, project: str, domain: str, workflow: str
    ) -> attributes_pb2.MatchingAttributes: ...


class PostgresEntities:
    """:class:`EntitySource` over the registry tables of revision 0001."""

    async def check_project(self, conn: Connection, project: str, domain: str) -> None:
        state = await conn.fetchval("SELECT state FROM projects WHERE id = $1", project)
        if state is None:
            raise NotFound(f"project {project!r} not found", resource=f"project:{project}")
        if state == _PROJECT_ARCHIVED:
            raise FailedPrecondition(
                f"project {project!r} is archived: no new executions", reason="PROJECT_ARCHIVED"
            )

    async def _row(self, conn: Connection, table: str, id: identifier_pb2.Identifier) -> bytes:
        # ``table`` is one of three literals below, never user input.
        data = await conn.fetchval(
            f"SELECT closure FROM {table} WHERE project = $1 AND domain = $2 AND name = $3"
            " AND version = $4",
            id.project, id.domain, id.name, id.version,
        )  # fmt: skip
        if data is None:
            kind = table.rstrip("s").replace("_", " ")
            raise NotFound(f"{kind} {_key(id)} not found", resource=f"{kind}:{_key(id)}")
        return bytes(data)

    async def launch_plan(
        self, conn: Connection, id: identifier_pb2.Identifier
    ) -> launch_plan_pb2.LaunchPlan:
        row = await conn.fetchrow(
            "SELECT spec, closure FROM launch_plans WHERE project = $1 AND domain = $2"
            " AND name = $3 AND version = $4",
            id.project, id.domain, id.name, id.version,
        )  # fmt: skip
        if row is None:
            raise NotFound(f"launch plan {_key(id)} not found", resource=f"launch_plan:{_key(id)}")
        lp = launch_plan_pb2.LaunchPlan(id=id)
        lp.spec.ParseFromString(row["spec"])
        lp.closure.ParseFromString(row["closure"])
        return lp

    async def workflow(
        self, conn: Connection, id: identifier_pb2.Identifier
    ) -> workflow_pb2.Workflow:
        wf = workflow_pb2.Workflow(id=id)
        wf.closure.ParseFromString(await self._row(conn, "workflows", id))
        return wf

    async def task(self, conn: Connection, id: identifier_pb2.Identifier) -> task_pb2.Task:
        task = task_pb2.Task(id=id)
        task.closure.ParseFromString(await self._row(conn, "tasks", id))
        return task


class _Effective(Protocol):
    async def effective(
        self, project: str, domain: str, workflow: str = ""
    ) -> attributes_pb2.MatchingAttributes: ...


class ManagerAttributes:
    """:class:`AttributeSource` over the attributes area's manager (its own resolution:
    workflow > project-domain > project > configuration)."""

    def __init__(self, manager: _Effective) -> None:
        self._manager = manager

    async def effective(
        self, conn: Connection, project: str, domain: str, workflow: str
    ) -> attributes_pb2.MatchingAttributes:
        return await self._manager.effective(project, domain, workflow)


class NoAttributes:
    """No stored attributes at all (tests, tools)."""

    async def effective(
        self, conn: Connection, project: str, domain: str, workflow: str
    ) -> attributes_pb2.MatchingAttributes:
        return attributes_pb2.MatchingAttributes()
