"""Full resync with admin: at start and after every NATS reconnect.

Entity events are the fast path; a resync covers anything they cannot: a scheduler that starts
with an empty table, events dropped by a stream limit, or a gap while NATS was unreachable.
It lists admin's active launch plans and makes ``launch_plans`` match, except for rows an
entity event changed after the resync began (those are newer than the list).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from skyloom_scheduler.admin import AdminClient
from skyloom_scheduler.repository import SchedulerRepository

__all__ = ["Resync"]

_log = logging.getLogger(__name__)


class Resync:
    """A component; :meth:`request` asks for another resync (safe from callbacks)."""

    def __init__(
        self,
        repository: SchedulerRepository,
        admin: AdminClient,
        *,
        db_now: Callable[[], Awaitable[datetime]],
        retry: float = 2.0,
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self._repo = repository
        self._admin = admin
        self._db_now = db_now
        self._retry = retry
        self._on_done = on_done
        self._needed = asyncio.Event()
        self._needed.set()
        self._stop = asyncio.Event()
        self.count = 0
        """Completed resyncs (tests and health checks read it)."""

    def request(self) -> None:
        self._needed.set()

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
        self._needed.set()

    async def run(self) -> None:
        failures = 0
        while True:
            await self._needed.wait()
            if self._stop.is_set():
                return
            self._needed.clear()
            try:
                started = await self._db_now()
                plans = await self._admin.list_active_launch_plans()
                await self._repo.resync(plans, started)
            except Exception as exc:
                failures += 1
                delay = min(self._retry * 2 ** (failures - 1), 60.0)
                _log.warning("resync failed (%r), retrying in %.1fs", exc, delay)
                self._needed.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                continue
            failures = 0
            self.count += 1
            _log.info("resync: %d active launch plan(s) from admin", len(plans))
            self._on_done()
