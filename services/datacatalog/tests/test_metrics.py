"""The reservations-held gauge keeps its last value through a database outage."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from skyloom_common.errors import Unavailable
from skyloom_datacatalog.metrics import CatalogMetrics, ReservationGauge


async def test_gauge_survives_an_outage_and_stops_on_shutdown() -> None:
    registry = CollectorRegistry()
    metrics = CatalogMetrics(registry)
    answers: list[int | Exception] = [2, Unavailable("postgres down"), 3]

    async def count() -> int:
        answer = answers.pop(0) if answers else 3
        if isinstance(answer, Exception):
            raise answer
        return answer

    def held() -> float | None:
        return registry.get_sample_value("datacatalog_reservations_held")

    gauge = ReservationGauge(metrics.reservations_held, count, interval=0.01)
    await gauge.refresh()
    assert held() == 2
    await gauge.refresh()  # the outage: logged, last value kept
    assert held() == 2
    async with gauge:
        task = asyncio.create_task(gauge.run())
        await asyncio.sleep(0.05)
        await gauge.shutdown()
        await asyncio.wait_for(task, 1)
    assert held() == 3
