"""GetOrExtendReservation / ReleaseReservation with Flyte's semantics.

``get_or_extend`` (``datacatalog/pkg/manager/impl/reservation_manager.go``):

1. read the reservation;
2. none: ``INSERT … ON CONFLICT DO NOTHING``; a lost race re-reads and answers the winner;
3. expired, or already the caller's: ``UPDATE … WHERE expires_at <= now() OR owner_id = me``
   (the guard is re-checked under the row lock, so of two callers taking over the same expired
   reservation exactly one succeeds); zero rows means someone else won: re-read;
4. otherwise answer the current holder.

The heartbeat is the smaller of the requested one (or the default) and the configured maximum;
expiry is ``now + heartbeat × grace multiplier`` on the database clock. A reservation that
vanishes between steps (released meanwhile) restarts the sequence, a bounded number of times.
Release deletes by (key, owner): a missing reservation or another owner's is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.duration_pb2 import Duration

from skyloom_common.errors import Aborted
from skyloom_datacatalog.metrics import CatalogMetrics
from skyloom_datacatalog.store.protocol import CatalogRepository, ReservationKey, ReservationRow
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["ReservationManager", "ReservationPolicy"]

_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class ReservationPolicy:
    default_heartbeat: float
    max_heartbeat: float
    grace_multiplier: float

    def heartbeat(self, requested: Duration) -> float:
        seconds = requested.seconds + requested.nanos / 1e9
        return min(seconds if seconds > 0 else self.default_heartbeat, self.max_heartbeat)


class ReservationManager:
    def __init__(
        self, repository: CatalogRepository, policy: ReservationPolicy, metrics: CatalogMetrics
    ) -> None:
        self._repo = repository
        self._policy = policy
        self._metrics = metrics

    async def get_or_extend(
        self, rid: dc.ReservationID, owner_id: str, requested: Duration
    ) -> dc.Reservation:
        """The reservation after the call; the caller holds it iff ``owner_id`` is theirs."""
        key = ReservationKey.of(rid)
        heartbeat = self._policy.heartbeat(requested)
        ttl = heartbeat * self._policy.grace_multiplier
        for _ in range(_ATTEMPTS):
            current = await self._repo.get_reservation(key)
            if current is None:
                won = await self._repo.insert_reservation(key, owner_id, heartbeat, ttl)
                if won is not None:
                    return self._answer("acquired", won)
            elif current.expired or current.owner_id == owner_id:
                took = await self._repo.update_reservation(key, owner_id, heartbeat, ttl)
                if took is not None:
                    mine = current.owner_id == owner_id
                    return self._answer("extended" if mine else "taken_over", took)
            else:
                return self._answer("held_by_other", current)
            # Lost a race (or the row vanished): whoever holds it now is the answer.
            holder = await self._repo.get_reservation(key)
            if holder is not None and not holder.expired:
                return self._answer("held_by_other", holder)
        raise Aborted(
            f"reservation {key.tag_name} kept changing hands; retry", reason="RESERVATION_CONTENDED"
        )

    def _answer(self, outcome: str, row: ReservationRow) -> dc.Reservation:
        self._metrics.reservations.labels(outcome).inc()
        return row.reservation

    async def release(self, rid: dc.ReservationID, owner_id: str) -> None:
        released = await self._repo.delete_reservation(ReservationKey.of(rid), owner_id)
        self._metrics.reservations.labels("released" if released else "release_noop").inc()
