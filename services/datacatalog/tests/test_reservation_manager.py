"""ReservationManager's race branches, driven by a scripted in-memory repository (no server):
the interleavings below are the ones a real Postgres produces only by chance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pytest
from google.protobuf.duration_pb2 import Duration
from prometheus_client import CollectorRegistry

from skyloom_common.errors import Aborted
from skyloom_datacatalog.metrics import CatalogMetrics
from skyloom_datacatalog.reservations import ReservationManager, ReservationPolicy
from skyloom_datacatalog.store.protocol import CatalogRepository, ReservationKey, ReservationRow
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

RID = dc.ReservationID(
    dataset_id=dc.DatasetID(project="p", domain="d", name="n", version="v"), tag_name="t"
)
POLICY = ReservationPolicy(default_heartbeat=10, max_heartbeat=60, grace_multiplier=3)


def row(owner: str, *, expired: bool = False) -> ReservationRow:
    return ReservationRow(dc.Reservation(reservation_id=RID, owner_id=owner), expired=expired)


class Scripted:
    """Answers each reservation call from a queue, and records what was asked."""

    def __init__(
        self,
        gets: Sequence[ReservationRow | None],
        inserts: Sequence[ReservationRow | None] = (),
        updates: Sequence[ReservationRow | None] = (),
    ) -> None:
        self.gets, self.inserts, self.updates = list(gets), list(inserts), list(updates)
        self.calls: list[tuple[str, float, float]] = []

    async def get_reservation(self, key: ReservationKey) -> ReservationRow | None:
        return self.gets.pop(0)

    async def insert_reservation(
        self, key: ReservationKey, owner: str, heartbeat: float, ttl: float
    ) -> ReservationRow | None:
        self.calls.append(("insert", heartbeat, ttl))
        return self.inserts.pop(0)

    async def update_reservation(
        self, key: ReservationKey, owner: str, heartbeat: float, ttl: float
    ) -> ReservationRow | None:
        self.calls.append(("update", heartbeat, ttl))
        return self.updates.pop(0)


def manager(repo: Scripted) -> ReservationManager:
    metrics = CatalogMetrics(CollectorRegistry())
    return ReservationManager(cast(CatalogRepository, repo), POLICY, metrics)


def seconds(value: float) -> Duration:
    d = Duration()
    d.FromNanoseconds(int(value * 1e9))
    return d


async def test_lost_insert_race_answers_the_winner() -> None:
    repo = Scripted(gets=[None, row("other")], inserts=[None])
    got = await manager(repo).get_or_extend(RID, "me", seconds(5))
    assert got.owner_id == "other"
    assert repo.calls == [("insert", 5, 15)]


async def test_lost_takeover_race_answers_the_winner() -> None:
    repo = Scripted(gets=[row("old", expired=True), row("other")], updates=[None])
    assert (await manager(repo).get_or_extend(RID, "me", seconds(5))).owner_id == "other"


async def test_released_in_between_starts_over_and_acquires() -> None:
    repo = Scripted(
        gets=[row("old", expired=True), None, None], inserts=[row("me")], updates=[None]
    )
    assert (await manager(repo).get_or_extend(RID, "me", seconds(5))).owner_id == "me"


async def test_heartbeat_default_and_cap() -> None:
    repo = Scripted(gets=[None, None], inserts=[row("me"), row("me")])
    await manager(repo).get_or_extend(RID, "me", Duration())
    await manager(repo).get_or_extend(RID, "me", seconds(3600))
    assert repo.calls == [("insert", 10, 30), ("insert", 60, 180)]


async def test_a_key_that_keeps_changing_hands_is_aborted() -> None:
    repo = Scripted(gets=[None] * 10, inserts=[None] * 5)
    with pytest.raises(Aborted) as info:
        await manager(repo).get_or_extend(RID, "me", seconds(5))
    assert info.value.retryable
