"""GetOrExtendReservation / ReleaseReservation: one owner at a time, from many real clients.

The fixture's timings: heartbeats are capped at 0.5 s and a reservation lapses after
heartbeat × 2, so expiry-based takeovers happen within a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from skyloom_idl.datacatalog import datacatalog_pb2 as dc
from skyloom_idl.service.datacatalog_pb2_grpc import DataCatalogServiceStub

from .conftest import Running, dataset_id

pytestmark = pytest.mark.integration

RID = dc.ReservationID(dataset_id=dataset_id(), tag_name="skyloom_cached-abc")


def seconds(value: float) -> Duration:
    d = Duration()
    d.FromNanoseconds(int(value * 1e9))
    return d


async def reserve(
    stub: DataCatalogServiceStub, owner: str, heartbeat: float = 0.0, rid: dc.ReservationID = RID
) -> dc.Reservation:
    request = dc.GetOrExtendReservationRequest(
        reservation_id=rid, owner_id=owner, heartbeat_interval=seconds(heartbeat)
    )
    return (await stub.GetOrExtendReservation(request)).reservation


async def release(stub: DataCatalogServiceStub, owner: str) -> None:
    await stub.ReleaseReservation(dc.ReleaseReservationRequest(reservation_id=RID, owner_id=owner))


@pytest.fixture
async def clients(catalog: Running) -> AsyncIterator[list[DataCatalogServiceStub]]:
    """20 clients, each on its own gRPC channel."""
    channels = [grpc.aio.insecure_channel(catalog.app.grpc.target) for _ in range(20)]
    try:
        yield [DataCatalogServiceStub(c) for c in channels]
    finally:
        await asyncio.gather(*(c.close() for c in channels))


async def test_concurrent_first_reservations_have_exactly_one_winner(
    clients: list[DataCatalogServiceStub],
) -> None:
    answers = await asyncio.gather(*(reserve(s, f"owner-{i}") for i, s in enumerate(clients)))
    winners = [i for i, r in enumerate(answers) if r.owner_id == f"owner-{i}"]
    assert len(winners) == 1
    # Every answer names the one holder.
    assert {r.owner_id for r in answers} == {f"owner-{winners[0]}"}


async def test_concurrent_takeover_of_an_expired_reservation_has_one_winner(
    clients: list[DataCatalogServiceStub],
) -> None:
    await reserve(clients[0], "crashed", heartbeat=0.05)  # lapses after 0.1 s
    await asyncio.sleep(0.2)
    answers = await asyncio.gather(*(reserve(s, f"owner-{i}") for i, s in enumerate(clients)))
    winners = {r.owner_id for r in answers}
    assert len(winners) == 1
    assert winners != {"crashed"}


async def test_mutual_exclusion_under_contention(clients: list[DataCatalogServiceStub]) -> None:
    """Each client repeatedly reserves, works briefly, releases; no two ever overlap.

    A holder's belief is only valid until its ``expires_at`` (a stalled machine may let a
    reservation lapse legitimately), so an overlap counts only while the other's is unexpired.
    """
    holding: dict[str, float] = {}  # owner -> expires_at (epoch seconds)
    overlaps: list[tuple[str, str]] = []
    acquisitions = 0

    async def worker(stub: DataCatalogServiceStub, me: str) -> None:
        nonlocal acquisitions
        done = 0
        while done < 3:
            got = await reserve(stub, me, heartbeat=0.5)
            if got.owner_id != me:
                await asyncio.sleep(0.005)
                continue
            now = time.time()
            overlaps.extend((me, other) for other, until in holding.items() if until > now)
            holding[me] = got.expires_at.ToNanoseconds() / 1e9
            await asyncio.sleep(0.01)
            del holding[me]
            await release(stub, me)
            acquisitions += 1
            done += 1

    await asyncio.wait_for(
        asyncio.gather(*(worker(s, f"w{i}") for i, s in enumerate(clients))), timeout=90
    )
    assert overlaps == []
    assert acquisitions == 3 * len(clients)


async def test_owner_extends_others_wait_and_take_over_after_expiry(catalog: Running) -> None:
    stub = catalog.stub
    first = await reserve(stub, "a", heartbeat=0.5)  # lapses 1 s after each extension
    assert first.owner_id == "a"
    assert (await reserve(stub, "b")).owner_id == "a"

    # Heartbeats keep it: past the first expiry, "a" still holds it.
    for _ in range(5):
        await asyncio.sleep(0.25)
        extended = await reserve(stub, "a", heartbeat=0.5)
        assert extended.owner_id == "a"
    assert extended.expires_at.ToNanoseconds() > first.expires_at.ToNanoseconds() + 1e9
    assert (await reserve(stub, "b")).owner_id == "a"

    # "a" stops heartbeating; once its reservation lapsed, "b" takes it over.
    await asyncio.sleep(max(0.0, extended.expires_at.ToNanoseconds() / 1e9 - time.time()) + 0.1)
    taken = await reserve(stub, "b", heartbeat=0.5)
    assert taken.owner_id == "b"
    # "a" comes back: the answer says "b" holds it, and a's release leaves it alone.
    assert (await reserve(stub, "a")).owner_id == "b"
    await release(stub, "a")
    assert (await reserve(stub, "c")).owner_id == "b"

    await release(stub, "b")
    assert (await reserve(stub, "c")).owner_id == "c"


async def test_heartbeat_is_capped_and_sets_expiry(catalog: Running) -> None:
    before = time.time()
    got = await reserve(catalog.stub, "a", heartbeat=3600)
    after = time.time()
    assert got.heartbeat_interval.ToNanoseconds() == 500_000_000  # the configured maximum
    expires = got.expires_at.ToNanoseconds() / 1e9
    assert before + 1.0 - 0.05 <= expires <= after + 1.0 + 0.05  # now + 0.5 s × grace 2
    default = await reserve(
        catalog.stub, "z", rid=dc.ReservationID(dataset_id=dataset_id(), tag_name="other")
    )
    assert default.heartbeat_interval.ToNanoseconds() == 200_000_000  # the configured default
    assert default.reservation_id.tag_name == "other"


async def test_release_is_idempotent(catalog: Running) -> None:
    await release(catalog.stub, "nobody")  # nothing reserved: not an error
    await reserve(catalog.stub, "a")
    await release(catalog.stub, "a")
    await release(catalog.stub, "a")
    assert (await reserve(catalog.stub, "b")).owner_id == "b"
