"""The leader lease and epoch fencing against real Postgres; lease timing on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from skyloom_common.db import create_pool, migrate
from skyloom_idl.core import identifier_pb2
from skyloom_scheduler.lease import LeaderLease
from skyloom_scheduler.metrics import SchedulerMetrics
from skyloom_scheduler.model import FireRow
from skyloom_scheduler.repository import SchedulerRepository, StaleEpoch
from skyloom_scheduler.service import MIGRATIONS

LP = identifier_pb2.Identifier(project="p", domain="d", name="lp", version="v1")
AT = datetime(2026, 11, 22, 6, tzinfo=UTC)


@pytest.fixture
async def pool(postgres_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(postgres_dsn, MIGRATIONS, "scheduler")
    pool = await create_pool(postgres_dsn, schema="scheduler")
    try:
        yield pool
    finally:
        await pool.close()


async def expire(pool: asyncpg.Pool) -> None:
    await pool.execute("UPDATE leader_lease SET expires_at = now() - interval '1 second'")


@pytest.mark.integration
async def test_a_stale_epochs_write_is_rejected_and_writes_nothing(pool: asyncpg.Pool) -> None:
    repo = SchedulerRepository(pool)
    assert await repo.acquire_lease("scheduler", "a", 30) == 1
    assert await repo.acquire_lease("scheduler", "b", 30) is None  # held by a
    assert await repo.acquire_lease("scheduler", "a", 30) == 1  # renewal keeps the epoch
    await expire(pool)  # a is paused past its ttl ...
    assert await repo.acquire_lease("scheduler", "b", 30) == 2  # ... and b takes over
    assert await repo.acquire_lease("scheduler", "a", 30) is None
    fire = FireRow("f-stale", LP, "schedule", AT)
    with pytest.raises(StaleEpoch):
        await repo.record_schedule_fires(
            lease="scheduler", epoch=1, schedule_key="p/d/lp", fires=[fire], cursor=AT
        )
    assert await pool.fetchval("SELECT count(*) FROM fires") == 0
    assert await pool.fetchval("SELECT count(*) FROM fire_snapshots") == 0
    fresh = FireRow("f-fresh", LP, "schedule", AT)
    await repo.record_schedule_fires(
        lease="scheduler", epoch=2, schedule_key="p/d/lp", fires=[fresh], cursor=AT
    )
    row = await pool.fetchrow("SELECT name, epoch FROM fires")
    assert (row["name"], row["epoch"]) == ("f-fresh", 2)
    assert await pool.fetchval("SELECT epoch FROM fire_snapshots") == 2


@pytest.mark.integration
async def test_released_lease_is_taken_at_once_with_a_new_epoch(pool: asyncpg.Pool) -> None:
    repo = SchedulerRepository(pool)
    assert await repo.acquire_lease("scheduler", "a", 30) == 1
    await repo.release_lease("scheduler", "a", 1)
    assert await repo.acquire_lease("scheduler", "b", 30) == 2


class FakeStore:
    def __init__(self) -> None:
        self.epoch: int | None = 7
        self.fail = False
        self.released: list[int] = []

    async def acquire_lease(self, name: str, owner: str, ttl: float) -> int | None:
        if self.fail:
            raise ConnectionError("postgres is down")
        return self.epoch

    async def release_lease(self, name: str, owner: str, epoch: int) -> None:
        self.released.append(epoch)


async def test_leader_stops_acting_at_ttl_minus_margin_without_renewal() -> None:
    now = [100.0]
    store = FakeStore()
    metrics = SchedulerMetrics(CollectorRegistry())
    lease = LeaderLease(
        store, name="s", owner="me", ttl=10, renew=3, margin=2, metrics=metrics,
        clock=lambda: now[0],
    )  # fmt: skip
    held = await lease.renew_once()
    assert held is not None
    assert (held.epoch, held.valid_until) == (7, 108.0)
    store.fail = True
    now[0] = 104.0
    assert await lease.renew_once() == held  # a failed renewal keeps what is still valid
    now[0] = 107.99
    assert lease.current() == held
    now[0] = 108.0
    assert lease.current() is None  # ttl - margin after the last renewal *started*
    store.fail, store.epoch = False, None
    assert await lease.renew_once() is None  # someone else holds it now
    assert metrics.leader_changes._value.get() == 1
    store.epoch = 8
    assert (await lease.renew_once()) is not None
    assert metrics.leader_changes._value.get() == 2
    await lease.shutdown()
    assert store.released == [8]
