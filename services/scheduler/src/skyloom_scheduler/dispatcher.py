"""Sends recorded fires to admin: claim, CreateExecution, record the outcome.

Any replica may dispatch: fires are claimed with ``FOR UPDATE SKIP LOCKED`` for
``claim`` seconds, and their names are deterministic, so a fire sent twice (a claim that expired
while admin was slow, a crash before the outcome was written) is answered ALREADY_EXISTS and
counts as sent. Transient failures are retried with a doubling delay, forever: a fire is
never dropped because admin was down. A rejection (bad inputs, launch plan gone, concurrency
limit with SKIP) is final and recorded with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from opentelemetry import trace

from skyloom_scheduler.admin import AdminClient, AdminRejected
from skyloom_scheduler.metrics import SchedulerMetrics
from skyloom_scheduler.model import FireRow
from skyloom_scheduler.repository import SchedulerRepository

__all__ = ["DispatchOptions", "FireDispatcher"]

_log = logging.getLogger(__name__)


class DispatchOptions:
    def __init__(
        self,
        *,
        batch: int = 32,
        poll: float = 0.5,
        claim: float = 30.0,
        retry: float = 1.0,
        max_retry: float = 60.0,
    ) -> None:
        self.batch, self.poll, self.claim = batch, poll, claim
        self.retry, self.max_retry = retry, max_retry


class FireDispatcher:
    """A component; :attr:`wake` makes it look for fires at once."""

    def __init__(
        self,
        repository: SchedulerRepository,
        admin: AdminClient,
        metrics: SchedulerMetrics,
        *,
        options: DispatchOptions,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._repo = repository
        self._admin = admin
        self._metrics = metrics
        self._options = options
        self._clock = clock
        self._tracer = tracer or trace.get_tracer(__name__)
        self._stop = asyncio.Event()
        self.wake = asyncio.Event()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        self._stop.set()
        self.wake.set()

    async def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self.wake.clear()
            try:
                fires = await self._repo.claim_fires(self._options.batch, self._options.claim)
                failures = 0
            except Exception as exc:
                failures += 1
                _log.warning("dispatcher: claiming fires failed: %r", exc)
                await self._sleep(min(self._options.retry * 2**failures, self._options.max_retry))
                continue
            for fire in fires:
                if self._stop.is_set():
                    break  # unsent claims expire and are sent by whoever runs next
                await self.send(fire)
            if len(fires) < self._options.batch:
                await self._sleep(self._options.poll)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)

    async def send(self, fire: FireRow) -> None:
        """Send one claimed fire and record what happened (never raises for admin errors)."""
        lp = fire.launch_plan
        with self._tracer.start_as_current_span(
            "scheduler.fire",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "skyloom.execution": fire.name,
                "skyloom.launch_plan": f"{lp.project}/{lp.domain}/{lp.name}/{lp.version}",
                "skyloom.fire.kind": fire.kind,
                "skyloom.fire.scheduled_at": fire.scheduled_at.isoformat(),
                "skyloom.fire.catch_up": fire.catch_up,
            },
        ) as span:
            try:
                outcome = await self._admin.create_execution(
                    lp, fire.name, fire.inputs, fire.scheduled_at, trigger=fire.trigger
                )
            except AdminRejected as exc:
                span.set_attribute("skyloom.fire.outcome", "rejected")
                _log.error("dispatcher: admin rejected %s: %s", fire.name, exc)
                await self._record(fire, "rejected", str(exc))
                return
            except Exception as exc:
                self._metrics.dispatch_errors.inc()
                delay = min(
                    self._options.retry * 2 ** max(fire.attempts - 1, 0), self._options.max_retry
                )
                _log.warning("dispatcher: %s failed (%r), retry in %.1fs", fire.name, exc, delay)
                span.record_exception(exc)
                with contextlib.suppress(Exception):
                    await self._repo.retry_fire(fire.name, delay, repr(exc)[:500])
                return
            span.set_attribute("skyloom.fire.outcome", outcome.value)
            lateness = (self._clock() - fire.scheduled_at).total_seconds()
            self._metrics.lateness.labels(fire.kind).observe(max(lateness, 0.0))
            await self._record(fire, outcome.value, None)

    async def _record(self, fire: FireRow, outcome: str, error: str | None) -> None:
        self._metrics.fires.labels(fire.kind, outcome).inc()
        try:
            await self._repo.complete_fire(fire.name, outcome, error)
        except Exception as exc:
            # The claim expires and the fire is sent again: ALREADY_EXISTS then.
            _log.warning("dispatcher: recording %s failed: %r", fire.name, exc)
