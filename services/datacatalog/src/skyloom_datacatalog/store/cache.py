"""Task-cache management statements: list the cached results of a task, evict them.

A cached result is a tag of a task-cache dataset. Evicting deletes the tag, then the artifact
it pointed at once no other tag points there (it could never be found by a lookup again).
Reservations are left alone: an attempt computing the value keeps its right to store it.
"""

from __future__ import annotations

import asyncpg

from skyloom_common.db import Connection, transaction, translate_errors
from skyloom_datacatalog.pagination import Cursor, PageRequest
from skyloom_datacatalog.store.protocol import CacheScope, Page
from skyloom_datacatalog.store.rows import metadata_from_json, timestamp
from skyloom_datacatalog.store.sql import Params, keyset
from skyloom_idl.datacatalog import cache_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["CacheQueries"]

_FROM = (
    " FROM datasets d JOIN tags t ON t.dataset_id = d.id"
    " JOIN artifacts a ON a.dataset_id = t.dataset_id AND a.artifact_id = t.artifact_id"
)


def _scope(scope: CacheScope, p: Params) -> list[str]:
    where = [
        f"d.project = {p.add(scope.project)}",
        f"d.domain = {p.add(scope.domain)}",
        f"d.name = {p.add(scope.dataset_name)}",
    ]
    if scope.dataset_version is not None:
        where.append(f"d.version = {p.add(scope.dataset_version)}")
    if scope.task_version is not None:
        where.append(f"a.task_version = {p.add(scope.task_version)}")
    return where


def _entry(row: asyncpg.Record) -> cache_pb2.CacheEntry:
    return cache_pb2.CacheEntry(
        dataset=dc.DatasetID(
            project=row["project"],
            domain=row["domain"],
            name=row["name"],
            version=row["version"],
            uuid=str(row["uuid"]),
        ),
        tag_name=row["tag_name"],
        artifact_id=row["artifact_id"],
        created_at=timestamp(row["created_at"]),
        metadata=metadata_from_json(row["metadata"]),
    )


async def _drop_untagged(conn: Connection, gone: list[asyncpg.Record]) -> None:
    if not gone:
        return
    await conn.execute(
        "DELETE FROM artifacts a USING unnest($1::bigint[], $2::text[]) AS g(ds, id)"
        " WHERE a.dataset_id = g.ds AND a.artifact_id = g.id AND NOT EXISTS"
        " (SELECT 1 FROM tags x WHERE x.dataset_id = g.ds AND x.artifact_id = g.id)",
        [r["dataset_id"] for r in gone],
        [r["artifact_id"] for r in gone],
    )


class CacheQueries:
    _pool: asyncpg.Pool

    async def list_cache_entries(
        self, scope: CacheScope, page: PageRequest
    ) -> Page[cache_pb2.CacheEntry]:
        p = Params()
        where = _scope(scope, p)
        after, order = keyset(page, p, "t.created_at", "t.seq")
        if after:
            where.append(after)
        with translate_errors():
            rows = await self._pool.fetch(
                "SELECT d.project, d.domain, d.name, d.version, d.uuid, t.tag_name,"
                " t.artifact_id, t.created_at, t.seq, a.metadata"
                f"{_FROM} WHERE {' AND '.join(where)} {order}",
                *p.values,
            )
        items = [_entry(r) for r in rows[: page.limit]]
        if len(rows) <= page.limit:
            return Page(items, None)
        last = rows[page.limit - 1]
        return Page(items, Cursor(last["created_at"], last["seq"]))

    async def evict_entry(self, dataset_id: dc.DatasetID, tag_name: str) -> bool:
        async with transaction(self._pool) as conn:
            gone = await conn.fetch(
                "DELETE FROM tags t USING datasets d WHERE t.dataset_id = d.id"
                " AND d.project = $1 AND d.domain = $2 AND d.name = $3 AND d.version = $4"
                " AND t.tag_name = $5 RETURNING t.dataset_id, t.artifact_id",
                dataset_id.project,
                dataset_id.domain,
                dataset_id.name,
                dataset_id.version,
                tag_name,
            )
            await _drop_untagged(conn, gone)
        return bool(gone)

    async def evict_entries(self, scope: CacheScope) -> int:
        p = Params()
        where = _scope(scope, p)
        async with transaction(self._pool) as conn:
            gone = await conn.fetch(
                "DELETE FROM tags t USING datasets d, artifacts a"
                " WHERE t.dataset_id = d.id AND a.dataset_id = t.dataset_id"
                f" AND a.artifact_id = t.artifact_id AND {' AND '.join(where)}"
                " RETURNING t.dataset_id, t.artifact_id",
                *p.values,
            )
            await _drop_untagged(conn, gone)
        return len(gone)
