"""``skyloom_admin_executions{phase}``: executions by phase, sampled from Postgres."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Self

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

from skyloom_idl.core import execution_pb2 as core_exec

__all__ = ["PhaseSampler"]

_log = logging.getLogger(__name__)
WF = core_exec.WorkflowExecution.Phase


class PhaseSampler:
    """Long-running component refreshing the gauge every ``interval`` seconds."""

    def __init__(self, pool: asyncpg.Pool, registry: CollectorRegistry, interval: float = 15.0):
        self._pool = pool
        self._interval = interval
        self.gauge = Gauge(
            "skyloom_admin_executions", "Executions by phase.", ["phase"], registry=registry
        )
        self._stopping = asyncio.Event()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()

    async def sample(self) -> None:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch("SELECT phase, count(*) AS n FROM executions GROUP BY phase")
        counts = {int(r["phase"]): int(r["n"]) for r in rows}
        for name, number in WF.items():
            self.gauge.labels(name.removeprefix("PHASE_")).set(counts.get(number, 0))

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sample()
            except Exception as exc:  # process edge: a DB blip must not stop the sampler
                _log.warning("phase sampler: %r", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    async def shutdown(self) -> None:
        self._stopping.set()
