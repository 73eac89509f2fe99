"""The catalog's own Prometheus collectors (the runtime adds per-RPC ones), and the component
that keeps the ``reservations held`` gauge fresh.

* ``datacatalog_cache_lookups_total{result="hit"|"miss"}`` — GetArtifact by tag;
* ``datacatalog_cache_lookup_seconds`` — latency of those lookups inside the service;
* ``datacatalog_reservation_requests_total{outcome}`` — acquired, extended, taken_over,
  held_by_other, released, release_noop;
* ``datacatalog_reservations_held`` — unexpired reservations, refreshed every
  ``catalog.reservation_gauge_seconds`` from the database (all replicas report the same number);
* ``datacatalog_cache_evictions_total`` — cached results evicted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from skyloom_common.errors import SkyloomError

__all__ = ["CatalogMetrics", "ReservationGauge"]

_log = logging.getLogger(__name__)
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class CatalogMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.lookups = Counter(
            "datacatalog_cache_lookups",
            "Cache lookups (GetArtifact by tag), by result.",
            ("result",),
            registry=registry,
        )
        self.lookup_seconds = Histogram(
            "datacatalog_cache_lookup_seconds",
            "Time to answer a cache lookup, in seconds.",
            buckets=_BUCKETS,
            registry=registry,
        )
        self.reservations = Counter(
            "datacatalog_reservation_requests",
            "Reservation requests, by outcome.",
            ("outcome",),
            registry=registry,
        )
        self.reservations_held = Gauge(
            "datacatalog_reservations_held",
            "Unexpired reservations (refreshed periodically).",
            registry=registry,
        )
        self.evictions = Counter(
            "datacatalog_cache_evictions", "Cached results evicted.", registry=registry
        )
        for result in ("hit", "miss"):
            self.lookups.labels(result)


class ReservationGauge:
    """Long-running component: sets ``reservations_held`` from ``count`` every ``interval``."""

    def __init__(
        self, gauge: Gauge, count: Callable[[], Awaitable[int]], *, interval: float
    ) -> None:
        self._gauge = gauge
        self._count = count
        self._interval = interval
        self._stop = asyncio.Event()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    async def refresh(self) -> None:
        try:
            self._gauge.set(await self._count())
        except (SkyloomError, asyncpg.PostgresError) as exc:
            # A gauge must not take the service down: keep the last value, retry next round.
            _log.warning("cannot count reservations: %s", exc)

    async def run(self) -> None:
        while not self._stop.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)

    async def shutdown(self) -> None:
        self._stop.set()
