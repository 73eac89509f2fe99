"""Reservation statements (Flyte's ``gormimpl/reservation.go``), each one atomic on its own.

Expiry is computed by the database clock only (``now() + ttl``), so replicas with skewed clocks
agree on who holds what. The manager composes these into GetOrExtendReservation.
"""

from __future__ import annotations

import asyncpg
from google.protobuf.duration_pb2 import Duration

from skyloom_common.db import translate_errors
from skyloom_datacatalog.store.protocol import ReservationKey, ReservationRow
from skyloom_datacatalog.store.rows import metadata_from_json, timestamp
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["ReservationQueries"]

_RETURNING = (
    "RETURNING project, domain, name, version, tag_name, owner_id, heartbeat_seconds,"
    " expires_at, metadata, expires_at <= now() AS expired"
)
_KEY = "project = $1 AND domain = $2 AND name = $3 AND version = $4 AND tag_name = $5"


def _args(key: ReservationKey) -> tuple[str, str, str, str, str]:
    return (key.project, key.domain, key.name, key.version, key.tag_name)


def _row(row: asyncpg.Record | None) -> ReservationRow | None:
    if row is None:
        return None
    heartbeat = Duration()
    heartbeat.FromNanoseconds(round(row["heartbeat_seconds"] * 1e9))
    reservation = dc.Reservation(
        reservation_id=dc.ReservationID(
            dataset_id=dc.DatasetID(
                project=row["project"],
                domain=row["domain"],
                name=row["name"],
                version=row["version"],
            ),
            tag_name=row["tag_name"],
        ),
        owner_id=row["owner_id"],
        heartbeat_interval=heartbeat,
        expires_at=timestamp(row["expires_at"]),
        metadata=metadata_from_json(row["metadata"]),
    )
    return ReservationRow(reservation, expired=row["expired"])


class ReservationQueries:
    _pool: asyncpg.Pool

    async def get_reservation(self, key: ReservationKey) -> ReservationRow | None:
        with translate_errors():
            row = await self._pool.fetchrow(
                f"SELECT *, expires_at <= now() AS expired FROM reservations WHERE {_KEY}",
                *_args(key),
            )
        return _row(row)

    async def insert_reservation(
        self, key: ReservationKey, owner_id: str, heartbeat: float, ttl: float
    ) -> ReservationRow | None:
        with translate_errors():
            row = await self._pool.fetchrow(
                "INSERT INTO reservations (project, domain, name, version, tag_name, owner_id,"
                " heartbeat_seconds, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))"
                f" ON CONFLICT DO NOTHING {_RETURNING}",
                *_args(key),
                owner_id,
                heartbeat,
                ttl,
            )
        return _row(row)

    async def update_reservation(
        self, key: ReservationKey, owner_id: str, heartbeat: float, ttl: float
    ) -> ReservationRow | None:
        with translate_errors():
            row = await self._pool.fetchrow(
                "UPDATE reservations SET owner_id = $6, heartbeat_seconds = $7,"
                " expires_at = now() + make_interval(secs => $8)"
                f" WHERE {_KEY} AND (expires_at <= now() OR owner_id = $6) {_RETURNING}",
                *_args(key),
                owner_id,
                heartbeat,
                ttl,
            )
        return _row(row)

    async def delete_reservation(self, key: ReservationKey, owner_id: str) -> bool:
        with translate_errors():
            status = await self._pool.execute(
                f"DELETE FROM reservations WHERE {_KEY} AND owner_id = $6", *_args(key), owner_id
            )
        return status != "DELETE 0"

    async def count_live_reservations(self) -> int:
        with translate_errors():
            count = await self._pool.fetchval(
                "SELECT count(*) FROM reservations WHERE expires_at > now()"
            )
        return int(count)
