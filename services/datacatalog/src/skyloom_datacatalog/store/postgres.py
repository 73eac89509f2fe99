"""The Postgres implementation of :class:`~skyloom_datacatalog.store.protocol.CatalogRepository`.

Datasets, artifacts and tags live here; reservations and cache management are mixed in from
:mod:`.reservations` and :mod:`.cache`. Every method runs on the pool given at construction,
whose ``search_path`` is the catalog's schema. Driver errors leave as domain errors
(``Unavailable`` when Postgres cannot be reached).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

import asyncpg

from skyloom_common.db import transaction, translate_errors
from skyloom_datacatalog.pagination import Cursor, PageRequest
from skyloom_datacatalog.store.cache import CacheQueries
from skyloom_datacatalog.store.protocol import Page, StoredDataset, TagOutcome
from skyloom_datacatalog.store.reservations import ReservationQueries
from skyloom_datacatalog.store.rows import (
    artifact_from_row,
    data_to_bytes,
    dataset_from_row,
    metadata_to_json,
)
from skyloom_datacatalog.store.sql import Params, artifact_filters, dataset_filters, keyset
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["PostgresCatalog"]

T = TypeVar("T")

_DATASET_COLUMNS = (
    "d.id, d.uuid, d.project, d.domain, d.name, d.version, d.metadata, d.partition_keys,"
    " d.created_at"
)
_ARTIFACT_COLUMNS = """
    a.artifact_id, a.data, a.metadata, a.created_at, a.seq,
    ARRAY(SELECT x.tag_name FROM tags x
          WHERE x.dataset_id = a.dataset_id AND x.artifact_id = a.artifact_id
          ORDER BY x.tag_name) AS tags,
    (SELECT jsonb_object_agg(x.key, x.value) FROM partitions x
     WHERE x.dataset_id = a.dataset_id AND x.artifact_id = a.artifact_id) AS partitions
"""
_TAG_KEY = "dataset_id = $1 AND tag_name = $2"
_DATASET_KEY = "d.project = $1 AND d.domain = $2 AND d.name = $3 AND d.version = $4"


def _key(dataset_id: dc.DatasetID) -> tuple[str, str, str, str]:
    return (dataset_id.project, dataset_id.domain, dataset_id.name, dataset_id.version)


class PostgresCatalog(ReservationQueries, CacheQueries):
    """All catalog storage on one asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_dataset(self, dataset: dc.Dataset) -> bool:
        with translate_errors():
            row = await self._pool.fetchrow(
                "INSERT INTO datasets (uuid, project, domain, name, version, metadata,"
                " partition_keys) VALUES ($5, $1, $2, $3, $4, $6, $7)"
                " ON CONFLICT ON CONSTRAINT datasets_key DO NOTHING RETURNING id",
                *_key(dataset.id),
                uuid.uuid4(),
                metadata_to_json(dataset.metadata),
                list(dataset.partition_keys),
            )
        return row is not None

    async def get_dataset(self, dataset_id: dc.DatasetID) -> StoredDataset | None:
        with translate_errors():
            row = await self._pool.fetchrow(
                f"SELECT {_DATASET_COLUMNS} FROM datasets d WHERE {_DATASET_KEY}", *_key(dataset_id)
            )
        return None if row is None else StoredDataset(row["id"], dataset_from_row(row))

    async def list_datasets(
        self, filters: Sequence[dc.SinglePropertyFilter], page: PageRequest
    ) -> Page[dc.Dataset]:
        p = Params()
        where = dataset_filters(filters, p, "d")
        after, order = keyset(page, p, "d.created_at", "d.id")
        if after:
            where.append(after)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with translate_errors():
            rows = await self._pool.fetch(
                f"SELECT {_DATASET_COLUMNS} FROM datasets d {clause} {order}", *p.values
            )
        return _page(rows, page, [dataset_from_row(r) for r in rows[: page.limit]], "id")

    async def create_artifact(self, dataset: StoredDataset, artifact: dc.Artifact) -> bool:
        task_version = artifact.metadata.key_map.get("task_version", "")
        async with transaction(self._pool) as conn:
            row = await conn.fetchrow(
                "INSERT INTO artifacts (dataset_id, artifact_id, data, metadata, task_version)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING seq",
                dataset.pk,
                artifact.id,
                data_to_bytes(list(artifact.data)),
                metadata_to_json(artifact.metadata),
                task_version,
            )
            if row is None:
                return False
            if artifact.partitions:
                await conn.executemany(
                    "INSERT INTO partitions (dataset_id, artifact_id, key, value)"
                    " VALUES ($1, $2, $3, $4)",
                    [(dataset.pk, artifact.id, p.key, p.value) for p in artifact.partitions],
                )
        return True

    async def get_artifact(self, dataset: StoredDataset, artifact_id: str) -> dc.Artifact | None:
        with translate_errors():
            row = await self._pool.fetchrow(
                f"SELECT {_ARTIFACT_COLUMNS} FROM artifacts a"
                " WHERE a.dataset_id = $1 AND a.artifact_id = $2",
                dataset.pk,
                artifact_id,
            )
        return None if row is None else artifact_from_row(row, dataset.dataset.id)

    async def lookup_tag(self, dataset_id: dc.DatasetID, tag_name: str) -> dc.Artifact | None:
        with translate_errors():
            row = await self._pool.fetchrow(
                f"SELECT d.uuid, {_ARTIFACT_COLUMNS} FROM datasets d"
                " JOIN tags t ON t.dataset_id = d.id AND t.tag_name = $5"
                " JOIN artifacts a ON a.dataset_id = t.dataset_id"
                " AND a.artifact_id = t.artifact_id"
                f" WHERE {_DATASET_KEY}",
                *_key(dataset_id),
                tag_name,
            )
        if row is None:
            return None
        full_id = dc.DatasetID()
        full_id.CopyFrom(dataset_id)
        full_id.uuid = str(row["uuid"])
        return artifact_from_row(row, full_id)

    async def list_artifacts(
        self,
        dataset: StoredDataset,
        filters: Sequence[dc.SinglePropertyFilter],
        page: PageRequest,
    ) -> Page[dc.Artifact]:
        p = Params(dataset.pk)
        where = ["a.dataset_id = $1", *artifact_filters(filters, p, "a")]
        after, order = keyset(page, p, "a.created_at", "a.seq")
        if after:
            where.append(after)
        with translate_errors():
            rows = await self._pool.fetch(
                f"SELECT {_ARTIFACT_COLUMNS} FROM artifacts a WHERE {' AND '.join(where)} {order}",
                *p.values,
            )
        items = [artifact_from_row(r, dataset.dataset.id) for r in rows[: page.limit]]
        return _page(rows, page, items, "seq")

    async def add_tag(
        self, dataset: StoredDataset, tag_name: str, artifact_id: str, *, overwrite: bool
    ) -> TagOutcome:
        key = (dataset.pk, tag_name)
        async with transaction(self._pool) as conn:
            exists = await conn.fetchval(
                "SELECT 1 FROM artifacts WHERE dataset_id = $1 AND artifact_id = $2",
                dataset.pk,
                artifact_id,
            )
            if exists is None:
                return TagOutcome.NO_ARTIFACT
            if overwrite:
                previous = await conn.fetchval(
                    f"SELECT artifact_id FROM tags WHERE {_TAG_KEY} FOR UPDATE", *key
                )
                await conn.execute(
                    "INSERT INTO tags (dataset_id, tag_name, artifact_id) VALUES ($1, $2, $3)"
                    " ON CONFLICT (dataset_id, tag_name) DO UPDATE"
                    " SET artifact_id = EXCLUDED.artifact_id, created_at = now()",
                    *key,
                    artifact_id,
                )
                if previous is None:
                    return TagOutcome.CREATED
                return TagOutcome.UNCHANGED if previous == artifact_id else TagOutcome.MOVED
            # A concurrent first tagging makes this wait for the other transaction, then do
            # nothing; the re-read (a new snapshot) sees the winner's artifact.
            created = await conn.fetchval(
                "INSERT INTO tags (dataset_id, tag_name, artifact_id) VALUES ($1, $2, $3)"
                " ON CONFLICT (dataset_id, tag_name) DO NOTHING RETURNING 1",
                *key,
                artifact_id,
            )
            if created is not None:
                return TagOutcome.CREATED
            current = await conn.fetchval(f"SELECT artifact_id FROM tags WHERE {_TAG_KEY}", *key)
        return TagOutcome.UNCHANGED if current == artifact_id else TagOutcome.CONFLICT


def _page(rows: Sequence[asyncpg.Record], page: PageRequest, items: list[T], seq: str) -> Page[T]:
    if len(rows) <= page.limit:
        return Page(items, None)
    last = rows[page.limit - 1]
    return Page(items, Cursor(last["created_at"], last[seq]))
