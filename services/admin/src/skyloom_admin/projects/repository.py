"""Project rows; projects are stored as their message's fields, labels as jsonb."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol

import asyncpg

from skyloom_admin.listing import Column, Kind, Listing, Sql
from skyloom_idl.admin import common_pb2, project_pb2

__all__ = ["PROJECTS", "PostgresProjects", "ProjectRepository"]

State = project_pb2.Project.State
PROJECTS = Listing(
    columns={
        "id": Column("id"),
        "name": Column("name"),
        "state": Column("state", Kind.ENUM, sortable=False, enum_values=dict(State.items())),
        "created_at": Column("created_at", Kind.TIME),
    },
    tiebreak="seq",
    labels="labels",
)


def _project(record: asyncpg.Record) -> project_pb2.Project:
    p = project_pb2.Project(
        id=record["id"],
        name=record["name"],
        description=record["description"],
        labels=common_pb2.Labels(values=json.loads(record["labels"])),
        state=record["state"],
    )
    p.created_at.FromDatetime(record["created_at"])
    p.updated_at.FromDatetime(record["updated_at"])
    return p


class ProjectRepository(Protocol):
    async def insert(self, project: project_pb2.Project) -> project_pb2.Project: ...

    async def update(self, project: project_pb2.Project) -> project_pb2.Project | None: ...

    async def get(self, project_id: str) -> project_pb2.Project | None: ...

    async def list(
        self, request: project_pb2.ListProjectsRequest, visible: frozenset[str] | None
    ) -> tuple[Sequence[project_pb2.Project], str]: ...


_COLUMNS = "id, name, description, labels, state, created_at, updated_at"


class PostgresProjects:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def insert(self, project: project_pb2.Project) -> project_pb2.Project:
        record = await self._pool.fetchrow(
            f"INSERT INTO projects (id, name, description, labels, state)"
            f" VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING {_COLUMNS}",
            project.id,
            project.name,
            project.description,
            json.dumps(dict(project.labels.values)),
            project.state,
        )
        assert record is not None
        return _project(record)

    async def update(self, project: project_pb2.Project) -> project_pb2.Project | None:
        record = await self._pool.fetchrow(
            "UPDATE projects SET name = $2, description = $3, labels = $4::jsonb, state = $5,"
            f" updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}",
            project.id,
            project.name,
            project.description,
            json.dumps(dict(project.labels.values)),
            project.state,
        )
        return None if record is None else _project(record)

    async def get(self, project_id: str) -> project_pb2.Project | None:
        record = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM projects WHERE id = $1", project_id
        )
        return None if record is None else _project(record)

    async def list(
        self, request: project_pb2.ListProjectsRequest, visible: frozenset[str] | None
    ) -> tuple[Sequence[project_pb2.Project], str]:
        sql = Sql()
        page = PROJECTS.query(sql, request.filter_by, request.sort_by, request.page)
        where = list(page.where) or ["true"]
        if not any(f.field == "state" for f in request.filter_by):
            where.append(f"state <> {sql.param(State.STATE_ARCHIVED)}")
        if visible is not None:
            where.append(f"id = ANY({sql.param(sorted(visible), 'text[]')})")
        records = await self._pool.fetch(
            f"SELECT {_COLUMNS}, {PROJECTS.select_keys(request.sort_by)} FROM projects"
            f" WHERE {' AND '.join(where)} ORDER BY {page.order_by} LIMIT {page.fetch_limit}",
            *sql.params,
        )
        rows, next_token = page.finish(records)
        return [_project(r) for r in rows], next_token
