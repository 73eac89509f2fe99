"""The leader lease: one replica plans schedules, fenced by the lease's epoch.

:class:`LeaderLease` renews a Postgres lease row every ``renew`` seconds. After a successful
renewal that *started* at monotonic time ``t0`` the replica may act until ``t0 + ttl - margin``:
the row expires at the server's ``now() + ttl`` measured after ``t0``, so the replica stops
before any other can take over, whatever the wall clocks say. A replica that cannot renew (Postgres
down, a long pause) simply lets its leadership lapse; its epoch in every write is the second line of
defence (:class:`~skyloom_scheduler.repository.StaleEpoch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from skyloom_scheduler.metrics import SchedulerMetrics

__all__ = ["LeaderLease", "Leadership", "LeaseStore"]

_log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    async def acquire_lease(self, name: str, owner: str, ttl: float) -> int | None: ...

    async def release_lease(self, name: str, owner: str, epoch: int) -> None: ...


@dataclass(frozen=True)
class Leadership:
    """This replica leads with ``epoch`` until monotonic time ``valid_until``."""

    epoch: int
    valid_until: float


class LeaderLease:
    """A component: ``async with lease:`` then ``run()`` keeps the lease; see the module doc."""

    def __init__(
        self,
        store: LeaseStore,
        *,
        name: str,
        owner: str,
        ttl: float,
        renew: float,
        margin: float,
        metrics: SchedulerMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if renew + margin >= ttl:
            raise ValueError("renew + margin must be below ttl")
        self.name = name
        self.owner = owner
        self._store = store
        self._ttl, self._renew, self._margin = ttl, renew, margin
        self._metrics = metrics
        self._clock = clock
        self._held: Leadership | None = None
        self._last_epoch: int | None = None
        self._stop = asyncio.Event()
        self.changed = asyncio.Event()
        """Set whenever this replica gains leadership (the planner waits on it)."""

    def current(self) -> Leadership | None:
        """The leadership this replica may act on now, or ``None``."""
        held = self._held
        if held is None or self._clock() >= held.valid_until:
            self._metrics.is_leader.set(0)
            return None
        return held

    async def renew_once(self) -> Leadership | None:
        """One acquisition or renewal attempt (the loop's step; tests call it directly)."""
        started = self._clock()
        try:
            epoch = await asyncio.wait_for(
                self._store.acquire_lease(self.name, self.owner, self._ttl),
                self._ttl - self._margin,
            )
        except Exception as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            _log.warning("lease %s: renewal failed: %r", self.name, exc)
            return self.current()
        if epoch is None:
            if self._held is not None:
                _log.warning("lease %s: lost to another replica", self.name)
            self._held = None
            self._metrics.is_leader.set(0)
            return None
        self._held = Leadership(epoch, started + self._ttl - self._margin)
        self._metrics.is_leader.set(1)
        if epoch != self._last_epoch:
            _log.info("lease %s: %s leads with epoch %d", self.name, self.owner, epoch)
            self._last_epoch = epoch
            self._metrics.leader_changes.inc()
            self.changed.set()
        return self._held

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    async def run(self) -> None:
        while not self._stop.is_set():
            await self.renew_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._renew)

    async def shutdown(self) -> None:
        """Stop renewing and release the lease if held. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        held, self._held = self._held, None
        self._metrics.is_leader.set(0)
        if held is not None:
            try:
                await asyncio.wait_for(
                    self._store.release_lease(self.name, self.owner, held.epoch), 5
                )
            except Exception as exc:
                _log.warning("lease %s: release failed (it will expire): %r", self.name, exc)
