"""Registered entities in Postgres: immutable rows, listing, launch plan activation.

``insert_*`` never overwrite: they return the stored row when the key is taken, and the
manager compares digests. Activation runs in one transaction with the outbox row announcing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import asyncpg

from skyloom_admin.listing import Column, Kind, Listing, Sql
from skyloom_common.db import Connection, transaction
from skyloom_idl.admin import common_pb2, launch_plan_pb2
from skyloom_idl.core import identifier_pb2

__all__ = [
    "ENTITY_LISTING",
    "IDS_LISTING",
    "LAUNCH_PLAN_LISTING",
    "EntityRow",
    "LaunchPlanRow",
    "PostgresRegistry",
    "RegistryRepository",
    "Table",
    "VetActivation",
]

Table = Literal["tasks", "workflows", "launch_plans"]
State = launch_plan_pb2.LaunchPlan.State

ENTITY_LISTING = Listing(
    columns={
        "name": Column("name"),
        "version": Column("version"),
        "created_at": Column("created_at", Kind.TIME),
    },
    tiebreak="seq",
)
LAUNCH_PLAN_LISTING = Listing(
    columns={
        **ENTITY_LISTING.columns,
        "state": Column("state", Kind.ENUM, sortable=False, enum_values=dict(State.items())),
        "updated_at": Column("updated_at", Kind.TIME),
        "workflow.name": Column("workflow_name"),
        "workflow.version": Column("workflow_version"),
        "has_schedule": Column("has_schedule", Kind.BOOL, sortable=False),
        "has_triggers": Column("has_triggers", Kind.BOOL, sortable=False),
    },
    tiebreak="seq",
)
IDS_LISTING = Listing(
    columns={"name": Column("name"), "created_at": Column("created_at", Kind.TIME)},
    tiebreak="seq",
    default_sort="name",
    default_ascending=True,
)


@dataclass(frozen=True, slots=True)
class EntityRow:
    """A task or workflow version: its serialized closure (without created_at)."""

    id: identifier_pb2.Identifier
    digest: str
    closure: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LaunchPlanRow:
    id: identifier_pb2.Identifier
    digest: str
    spec: bytes
    closure: bytes
    state: int
    created_at: datetime
    updated_at: datetime


# (changed launch plan row, revision) -> (subject, payload, msg_id) of the outbox message.
Announce = Callable[[LaunchPlanRow, int, int], tuple[str, bytes, str]]
Enqueue = Callable[[Connection, str, bytes, str], Awaitable[bool]]
# Stored specs of the other active launch plans with triggers, by (project, domain, name);
# raises to refuse the activation.
VetActivation = Callable[[Mapping[tuple[str, str, str], bytes]], None]


class RegistryRepository(Protocol):
    async def insert_entity(self, table: Table, row: EntityRow) -> EntityRow | None: ...

    async def get_entity(self, table: Table, id: identifier_pb2.Identifier) -> EntityRow | None: ...

    async def find_entities(
        self, table: Table, ref: identifier_pb2.Identifier, limit: int
    ) -> Sequence[EntityRow]: ...

    async def list_entities(
        self,
        table: Table,
        project: str,
        domain: str,
        name: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
    ) -> tuple[Sequence[EntityRow], str]: ...

    async def list_ids(
        self,
        table: Table,
        project: str,
        domain: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
    ) -> tuple[Sequence[str], str]: ...

    async def insert_launch_plan(
        self,
        row: LaunchPlanRow,
        workflow: identifier_pb2.Identifier,
        scheduled: bool,
        triggered: bool,
    ) -> LaunchPlanRow | None: ...

    async def get_launch_plan(self, id: identifier_pb2.Identifier) -> LaunchPlanRow | None: ...

    async def get_active_launch_plan(
        self, project: str, domain: str, name: str
    ) -> LaunchPlanRow | None: ...

    async def list_launch_plans(
        self,
        project: str,
        domain: str,
        name: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
        *,
        active_only: bool = False,
    ) -> tuple[Sequence[LaunchPlanRow], str]: ...

    async def set_launch_plan_state(
        self,
        id: identifier_pb2.Identifier,
        state: int,
        announce: Announce,
        vet: VetActivation | None = None,
    ) -> LaunchPlanRow | None: ...


def _identifier(record: asyncpg.Record, resource_type: int) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=resource_type,  # type: ignore[arg-type]
        project=record["project"],
        domain=record["domain"],
        name=record["name"],
        version=record["version"],
    )


_RESOURCE = {
    "tasks": identifier_pb2.ResourceType.RESOURCE_TYPE_TASK,
    "workflows": identifier_pb2.ResourceType.RESOURCE_TYPE_WORKFLOW,
    "launch_plans": identifier_pb2.ResourceType.RESOURCE_TYPE_LAUNCH_PLAN,
}
_KEY = "project = $1 AND domain = $2 AND name = $3 AND version = $4"
_LP_COLUMNS = "project, domain, name, version, digest, spec, closure, state, created_at, updated_at"


def _entity(table: Table, r: asyncpg.Record) -> EntityRow:
    return EntityRow(_identifier(r, _RESOURCE[table]), r["digest"], r["closure"], r["created_at"])


def _launch_plan(r: asyncpg.Record) -> LaunchPlanRow:
    return LaunchPlanRow(
        _identifier(r, _RESOURCE["launch_plans"]),
        r["digest"],
        r["spec"],
        r["closure"],
        r["state"],
        r["created_at"],
        r["updated_at"],
    )


def _key(i: identifier_pb2.Identifier) -> tuple[str, str, str, str]:
    return (i.project, i.domain, i.name, i.version)


class PostgresRegistry:
    def __init__(self, pool: asyncpg.Pool, enqueue: Enqueue) -> None:
        self._pool = pool
        self._enqueue = enqueue

    async def insert_entity(self, table: Table, row: EntityRow) -> EntityRow | None:
        """Insert; None if inserted, else the row already stored under the key."""
        async with transaction(self._pool) as conn:
            inserted = await conn.fetchval(
                f"INSERT INTO {table} (project, domain, name, version, digest, closure)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING seq",
                *_key(row.id),
                row.digest,
                row.closure,
            )
            if inserted is not None:
                return None
            record = await conn.fetchrow(
                f"SELECT project, domain, name, version, digest, closure, created_at"
                f" FROM {table} WHERE {_KEY}",
                *_key(row.id),
            )
        assert record is not None
        return _entity(table, record)

    async def get_entity(self, table: Table, id: identifier_pb2.Identifier) -> EntityRow | None:
        record = await self._pool.fetchrow(
            f"SELECT project, domain, name, version, digest, closure, created_at FROM {table}"
            f" WHERE {_KEY}",
            *_key(id),
        )
        return None if record is None else _entity(table, record)

    async def find_entities(
        self, table: Table, ref: identifier_pb2.Identifier, limit: int
    ) -> Sequence[EntityRow]:
        """Versions matching ``ref`` (an empty version matches any), newest first."""
        records = await self._pool.fetch(
            f"SELECT project, domain, name, version, digest, closure, created_at FROM {table}"
            " WHERE project = $1 AND domain = $2 AND name = $3 AND ($4 = '' OR version = $4)"
            " ORDER BY seq DESC LIMIT $5",
            *_key(ref),
            limit,
        )
        return [_entity(table, r) for r in records]

    async def list_entities(
        self,
        table: Table,
        project: str,
        domain: str,
        name: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
    ) -> tuple[Sequence[EntityRow], str]:
        sql = Sql()
        where = [f"project = {sql.param(project)}", f"domain = {sql.param(domain)}"]
        if name:
            where.append(f"name = {sql.param(name)}")
        planned = ENTITY_LISTING.query(sql, filters, sort, page)
        records = await self._pool.fetch(
            f"SELECT project, domain, name, version, digest, closure, created_at,"
            f" {ENTITY_LISTING.select_keys(sort)} FROM {table}"
            f" WHERE {' AND '.join(where + planned.where)}"
            f" ORDER BY {planned.order_by} LIMIT {planned.fetch_limit}",
            *sql.params,
        )
        rows, token = planned.finish(records)
        return [_entity(table, r) for r in rows], token

    async def list_ids(
        self,
        table: Table,
        project: str,
        domain: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
    ) -> tuple[Sequence[str], str]:
        sql = Sql()
        inner = (
            f"SELECT name, max(created_at) AS created_at, max(seq) AS seq FROM {table}"
            f" WHERE project = {sql.param(project)} AND domain = {sql.param(domain)}"
            " GROUP BY name"
        )
        planned = IDS_LISTING.query(sql, filters, sort, page)
        where = " AND ".join(planned.where) or "true"
        records = await self._pool.fetch(
            f"SELECT name, {IDS_LISTING.select_keys(sort)} FROM ({inner}) AS names"
            f" WHERE {where} ORDER BY {planned.order_by} LIMIT {planned.fetch_limit}",
            *sql.params,
        )
        rows, token = planned.finish(records)
        return [r["name"] for r in rows], token

    async def insert_launch_plan(
        self,
        row: LaunchPlanRow,
        workflow: identifier_pb2.Identifier,
        scheduled: bool,
        triggered: bool,
    ) -> LaunchPlanRow | None:
        async with transaction(self._pool) as conn:
            inserted = await conn.fetchval(
                "INSERT INTO launch_plans (project, domain, name, version, digest, spec, closure,"
                " state, workflow_name, workflow_version, has_schedule, has_triggers)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                " ON CONFLICT DO NOTHING RETURNING seq",
                *_key(row.id),
                row.digest,
                row.spec,
                row.closure,
                row.state,
                workflow.name,
                workflow.version,
                scheduled,
                triggered,
            )
            if inserted is not None:
                return None
            record = await conn.fetchrow(
                f"SELECT {_LP_COLUMNS} FROM launch_plans WHERE {_KEY}", *_key(row.id)
            )
        assert record is not None
        return _launch_plan(record)

    async def get_launch_plan(self, id: identifier_pb2.Identifier) -> LaunchPlanRow | None:
        record = await self._pool.fetchrow(
            f"SELECT {_LP_COLUMNS} FROM launch_plans WHERE {_KEY}", *_key(id)
        )
        return None if record is None else _launch_plan(record)

    async def get_active_launch_plan(
        self, project: str, domain: str, name: str
    ) -> LaunchPlanRow | None:
        record = await self._pool.fetchrow(
            f"SELECT {_LP_COLUMNS} FROM launch_plans WHERE project = $1 AND domain = $2"
            " AND name = $3 AND state = 2",
            project,
            domain,
            name,
        )
        return None if record is None else _launch_plan(record)

    async def list_launch_plans(
        self,
        project: str,
        domain: str,
        name: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
        *,
        active_only: bool = False,
    ) -> tuple[Sequence[LaunchPlanRow], str]:
        sql = Sql()
        where = []
        for column, value in (("project", project), ("domain", domain), ("name", name)):
            if value:
                where.append(f"{column} = {sql.param(value)}")
        if active_only:
            where.append("state = 2")
        planned = LAUNCH_PLAN_LISTING.query(sql, filters, sort, page)
        records = await self._pool.fetch(
            f"SELECT {_LP_COLUMNS}, {LAUNCH_PLAN_LISTING.select_keys(sort)} FROM launch_plans"
            f" WHERE {' AND '.join(where + planned.where) or 'true'}"
            f" ORDER BY {planned.order_by} LIMIT {planned.fetch_limit}",
            *sql.params,
        )
        rows, token = planned.finish(records)
        return [_launch_plan(r) for r in rows], token

    async def set_launch_plan_state(
        self,
        id: identifier_pb2.Identifier,
        state: int,
        announce: Announce,
        vet: VetActivation | None = None,
    ) -> LaunchPlanRow | None:
        """Activate (deactivating the previous active version) or deactivate ``id``, bump the
        name's revision and enqueue ``announce(...)``'s message, in one transaction.
        Setting the current state changes nothing and enqueues nothing. None: unknown id.

        With ``vet``, an activation first takes the trigger-graph lock and calls ``vet`` with
        the other active launch plans' specs; if it raises, nothing is written."""
        async with transaction(self._pool) as conn:
            lock = f"lp:{id.project}/{id.domain}/{id.name}"
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", lock)
            record = await conn.fetchrow(
                f"SELECT {_LP_COLUMNS} FROM launch_plans WHERE {_KEY} FOR UPDATE", *_key(id)
            )
            if record is None:
                return None
            if record["state"] == state or (
                state == State.STATE_INACTIVE and record["state"] != State.STATE_ACTIVE
            ):
                return _launch_plan(record)
            if state == State.STATE_ACTIVE and vet is not None:
                vet(await _active_trigger_specs(conn, id))
            if state == State.STATE_ACTIVE:
                await conn.execute(
                    "UPDATE launch_plans SET state = 1, updated_at = now() WHERE project = $1"
                    " AND domain = $2 AND name = $3 AND state = 2",
                    id.project,
                    id.domain,
                    id.name,
                )
            updated = await conn.fetchrow(
                f"UPDATE launch_plans SET state = $5, updated_at = now() WHERE {_KEY}"
                f" RETURNING {_LP_COLUMNS}",
                *_key(id),
                state,
            )
            revision = await conn.fetchval(
                "INSERT INTO launch_plan_revisions (project, domain, name, revision)"
                " VALUES ($1, $2, $3, 1) ON CONFLICT (project, domain, name)"
                " DO UPDATE SET revision = launch_plan_revisions.revision + 1 RETURNING revision",
                id.project,
                id.domain,
                id.name,
            )
            assert updated is not None
            row = _launch_plan(updated)
            subject, payload, msg_id = announce(row, int(revision), state)
            await self._enqueue(conn, subject, payload, msg_id)
        return row


async def _active_trigger_specs(
    conn: Connection, id: identifier_pb2.Identifier
) -> dict[tuple[str, str, str], bytes]:
    # The per-name lock serializes activations of one name only; a cycle can be closed by two
    # activations of different names at once (A on B, B on A), so every activation that adds
    # trigger edges also serializes on one lock for the whole graph. READ COMMITTED: the
    # query below, run after the lock, sees what the previous holder committed.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "lp-triggers")
    records = await conn.fetch(
        "SELECT project, domain, name, spec FROM launch_plans WHERE state = 2 AND has_triggers"
        " AND NOT (project = $1 AND domain = $2 AND name = $3)",
        id.project,
        id.domain,
        id.name,
    )
    return {(r["project"], r["domain"], r["name"]): r["spec"] for r in records}
