"""Postgres access of the scheduler: the lease, launch plans, snapshots and fires.

Fencing: every write a leader makes for a schedule (its fire rows and its snapshot) runs in one
transaction that first takes ``SELECT ... FOR SHARE`` on the lease row ``WHERE epoch = $epoch``.
A new leader's acquisition updates that row, so the two serialise: a stale leader's write either
commits before the takeover (and the new leader, which reads snapshots after acquiring, sees it)
or finds no row with its epoch and raises :class:`StaleEpoch` having written nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from skyloom_common.db import Connection, transaction
from skyloom_idl.admin import launch_plan_pb2
from skyloom_idl.core import identifier_pb2, literals_pb2
from skyloom_idl.event import entity_pb2
from skyloom_scheduler.model import FireRow, StoredPlan, plan_key

__all__ = [
    "SchedulerRepository",
    "StaleEpoch",
    "apply_entity_event",
    "insert_fires",
    "trigger_plans",
]

_ACQUIRE = """
INSERT INTO leader_lease (name, owner, epoch, expires_at)
VALUES ($1, $2, 1, now() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE SET
    owner = EXCLUDED.owner,
    epoch = CASE WHEN leader_lease.owner = EXCLUDED.owner THEN leader_lease.epoch
                 ELSE leader_lease.epoch + 1 END,
    acquired_at = CASE WHEN leader_lease.owner = EXCLUDED.owner THEN leader_lease.acquired_at
                       ELSE now() END,
    expires_at = EXCLUDED.expires_at
WHERE leader_lease.expires_at < now() OR leader_lease.owner = EXCLUDED.owner
RETURNING epoch
"""
_FENCE = "SELECT epoch FROM leader_lease WHERE name = $1 AND epoch = $2 FOR SHARE"
_INSERT_FIRE = """
INSERT INTO fires (name, project, domain, launch_plan, kind, trigger, scheduled_at, inputs,
                   catch_up, epoch, outcome, error, dispatched_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
        CASE WHEN $11::text IS NULL THEN NULL ELSE now() END)
ON CONFLICT (name) DO NOTHING
"""
_SNAPSHOT = """
INSERT INTO fire_snapshots (schedule_key, last_fired_at, epoch) VALUES ($1, $2, $3)
ON CONFLICT (schedule_key) DO UPDATE SET
    last_fired_at = GREATEST(fire_snapshots.last_fired_at, EXCLUDED.last_fired_at),
    epoch = EXCLUDED.epoch, updated_at = now()
"""
_UPSERT_PLAN = """
INSERT INTO launch_plans (key, project, domain, name, revision, active, has_schedule,
                          has_triggers, launch_plan, activated_at, applied_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
ON CONFLICT (key) DO UPDATE SET
    revision = EXCLUDED.revision, active = EXCLUDED.active,
    has_schedule = EXCLUDED.has_schedule, has_triggers = EXCLUDED.has_triggers,
    launch_plan = EXCLUDED.launch_plan, activated_at = EXCLUDED.activated_at,
    applied_at = now()
WHERE launch_plans.revision < EXCLUDED.revision
"""
_RESYNC_PLAN = """
INSERT INTO launch_plans (key, project, domain, name, revision, active, has_schedule,
                          has_triggers, launch_plan, activated_at, applied_at)
VALUES ($1, $2, $3, $4, 0, true, $5, $6, $7, $8, now())
ON CONFLICT (key) DO UPDATE SET
    active = true, has_schedule = EXCLUDED.has_schedule, has_triggers = EXCLUDED.has_triggers,
    launch_plan = EXCLUDED.launch_plan, activated_at = EXCLUDED.activated_at, applied_at = now()
WHERE launch_plans.applied_at < $9
"""


class StaleEpoch(Exception):
    """A write carried an epoch that is no longer the lease's: another leader took over."""


def _ts(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _plan_columns(
    lp: launch_plan_pb2.LaunchPlan, fallback: datetime | None = None
) -> tuple[str, bool, bool, datetime]:
    """Key, flags and activation time (``closure.updated_at``: the same on every replica; a
    rate without an anchor counts from it)."""
    key = plan_key(lp.id.project, lp.id.domain, lp.id.name)
    if lp.closure.HasField("updated_at"):
        activated = lp.closure.updated_at.ToDatetime(tzinfo=UTC)
    else:
        activated = fallback or datetime.now(UTC)
    return key, lp.spec.HasField("schedule"), len(lp.spec.triggers) > 0, activated


async def apply_entity_event(conn: Connection, event: entity_pb2.EntityEvent) -> bool:
    """Apply a launch plan change unless its revision is not newer than the stored one."""
    change = event.launch_plan
    lp = change.launch_plan
    occurred = event.occurred_at.ToDatetime(tzinfo=UTC) if event.HasField("occurred_at") else None
    key, has_schedule, has_triggers, activated = _plan_columns(lp, occurred)
    active = change.change == entity_pb2.LaunchPlanChanged.CHANGE_ACTIVATED or (
        change.change == entity_pb2.LaunchPlanChanged.CHANGE_UPDATED
        and lp.closure.state == launch_plan_pb2.LaunchPlan.STATE_ACTIVE
    )
    status: str = await conn.execute(
        _UPSERT_PLAN, key, lp.id.project, lp.id.domain, lp.id.name, event.revision, active,
        has_schedule, has_triggers, lp.SerializeToString(), activated,
    )  # fmt: skip
    return status.endswith(" 1")


async def trigger_plans(conn: Connection) -> list[launch_plan_pb2.LaunchPlan]:
    """Active launch plans that have triggers."""
    rows = await conn.fetch("SELECT launch_plan FROM launch_plans WHERE active AND has_triggers")
    return [launch_plan_pb2.LaunchPlan.FromString(r["launch_plan"]) for r in rows]


async def insert_fires(conn: Connection, fires: Sequence[FireRow], epoch: int | None) -> int:
    """Insert fires (a fire already present by name is left alone); how many were new."""
    new = 0
    for f in fires:
        lp = f.launch_plan
        status: str = await conn.execute(
            _INSERT_FIRE, f.name, lp.project, lp.domain, lp.SerializeToString(), f.kind,
            f.trigger, _ts(f.scheduled_at), f.inputs.SerializeToString(), f.catch_up, epoch,
            f.outcome, f.error,
        )  # fmt: skip
        new += status.endswith(" 1")
    return new


def _fire(row: asyncpg.Record) -> FireRow:
    return FireRow(
        name=row["name"],
        launch_plan=identifier_pb2.Identifier.FromString(row["launch_plan"]),
        kind=row["kind"],
        scheduled_at=row["scheduled_at"],
        inputs=literals_pb2.LiteralMap.FromString(row["inputs"]),
        trigger=row["trigger"],
        catch_up=row["catch_up"],
        attempts=row["attempts"],
    )


class SchedulerRepository:
    """The scheduler's tables in its own schema (the pool's ``search_path``)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def acquire_lease(self, name: str, owner: str, ttl: float) -> int | None:
        """Take or renew the lease; its epoch, or ``None`` while someone else holds it."""
        async with transaction(self._pool) as conn:
            epoch: int | None = await conn.fetchval(_ACQUIRE, name, owner, ttl)
        return epoch

    async def release_lease(self, name: str, owner: str, epoch: int) -> None:
        """Let the lease expire now, so another replica need not wait out the ttl."""
        async with transaction(self._pool) as conn:
            await conn.execute(
                "UPDATE leader_lease SET expires_at = now() "
                "WHERE name = $1 AND owner = $2 AND epoch = $3",
                name, owner, epoch,
            )  # fmt: skip

    async def record_schedule_fires(
        self,
        *,
        lease: str,
        epoch: int,
        schedule_key: str,
        fires: Sequence[FireRow],
        cursor: datetime,
    ) -> int:
        """Fenced: the fires and the new snapshot of one schedule, or :class:`StaleEpoch`."""
        async with transaction(self._pool) as conn:
            if await conn.fetchval(_FENCE, lease, epoch) is None:
                raise StaleEpoch(f"lease {lease}: epoch {epoch} is no longer current")
            new = await insert_fires(conn, fires, epoch)
            await conn.execute(_SNAPSHOT, schedule_key, _ts(cursor), epoch)
        return new

    async def scheduled_plans(self) -> list[StoredPlan]:
        """Active launch plans with a schedule, with their last recorded fire time."""
        async with transaction(self._pool) as conn:
            rows = await conn.fetch(
                "SELECT p.key, p.launch_plan, p.activated_at, s.last_fired_at "
                "FROM launch_plans p LEFT JOIN fire_snapshots s ON s.schedule_key = p.key "
                "WHERE p.active AND p.has_schedule ORDER BY p.key"
            )
        return [
            StoredPlan(
                r["key"],
                launch_plan_pb2.LaunchPlan.FromString(r["launch_plan"]),
                r["activated_at"],
                r["last_fired_at"],
            )
            for r in rows
        ]

    async def resync(
        self, plans: Sequence[launch_plan_pb2.LaunchPlan], started_at: datetime
    ) -> None:
        """Make the table match admin's list of active plans, except rows an entity event
        changed after ``started_at`` (the list may be older than those)."""
        async with transaction(self._pool) as conn:
            keys = []
            for lp in plans:
                key, has_schedule, has_triggers, activated = _plan_columns(lp)
                keys.append(key)
                await conn.execute(
                    _RESYNC_PLAN, key, lp.id.project, lp.id.domain, lp.id.name, has_schedule,
                    has_triggers, lp.SerializeToString(), activated, started_at,
                )  # fmt: skip
            await conn.execute(
                "UPDATE launch_plans SET active = false, applied_at = now() "
                "WHERE active AND NOT (key = ANY($1::text[])) AND applied_at < $2",
                keys, started_at,
            )  # fmt: skip

    async def claim_fires(self, limit: int, claim_seconds: float) -> list[FireRow]:
        """Claim up to ``limit`` unsent fires for ``claim_seconds`` (oldest first)."""
        async with transaction(self._pool) as conn:
            rows = await conn.fetch(
                "UPDATE fires SET not_before = now() + make_interval(secs => $2), "
                "attempts = attempts + 1 WHERE name IN ("
                " SELECT name FROM fires WHERE dispatched_at IS NULL AND not_before <= now()"
                " ORDER BY scheduled_at, name LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING *",
                limit, claim_seconds,
            )  # fmt: skip
        return sorted((_fire(r) for r in rows), key=lambda f: (f.scheduled_at, f.name))

    async def complete_fire(self, name: str, outcome: str, error: str | None = None) -> None:
        async with transaction(self._pool) as conn:
            await conn.execute(
                "UPDATE fires SET dispatched_at = now(), outcome = $2, error = $3 WHERE name = $1",
                name, outcome, error,
            )  # fmt: skip

    async def retry_fire(self, name: str, delay: float, error: str) -> None:
        async with transaction(self._pool) as conn:
            await conn.execute(
                "UPDATE fires SET not_before = now() + make_interval(secs => $2), error = $3 "
                "WHERE name = $1 AND dispatched_at IS NULL",
                name, delay, error,
            )  # fmt: skip

    async def fires(self) -> list[tuple[FireRow, str | None]]:
        """Every fire with its outcome (``None`` while unsent), oldest first; for tests/tools."""
        async with transaction(self._pool) as conn:
            rows = await conn.fetch("SELECT * FROM fires ORDER BY scheduled_at, name")
        return [(_fire(r), r["outcome"]) for r in rows]
