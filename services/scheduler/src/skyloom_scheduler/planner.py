"""The leader's loop: turn due scheduled times into fire rows, fenced by the lease epoch.

On every tick (at the next fire time, or after ``tick`` seconds at most) the leader reads the
active schedules and their snapshots from Postgres, plans each with
:func:`~skyloom_scheduler.planning.plan_fires` and records the fires together with the new
snapshot in one fenced transaction. Sending them to admin is the dispatcher's job, so a slow or
absent admin never delays planning, and a crash between the two only delays the fire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from opentelemetry import trace

from skyloom_core.errors import ValidationFailed
from skyloom_core.ids import scheduled_execution_name
from skyloom_core.schedules import rule_from_proto
from skyloom_scheduler.lease import LeaderLease, Leadership
from skyloom_scheduler.metrics import SchedulerMetrics
from skyloom_scheduler.model import FireRow, StoredPlan
from skyloom_scheduler.planning import CatchUp, kickoff_inputs, plan_fires
from skyloom_scheduler.repository import SchedulerRepository, StaleEpoch

__all__ = ["FirePlanner", "PlannerOptions"]

_log = logging.getLogger(__name__)


class PlannerOptions:
    """Timing and policy knobs (see :class:`~skyloom_scheduler.settings.SchedulerSection`)."""

    def __init__(
        self,
        *,
        tick: float = 1.0,
        cap: int = 100,
        grace: float = 60.0,
        rate_minute: float = 60.0,
    ) -> None:
        self.tick = tick
        self.cap = cap
        self.grace = timedelta(seconds=grace)
        self.rate_minute = timedelta(seconds=rate_minute)


class FirePlanner:
    """A component; acts only while ``lease.current()`` says this replica leads."""

    def __init__(
        self,
        repository: SchedulerRepository,
        lease: LeaderLease,
        metrics: SchedulerMetrics,
        *,
        options: PlannerOptions,
        on_recorded: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._repo = repository
        self._lease = lease
        self._metrics = metrics
        self._options = options
        self._on_recorded = on_recorded
        self._clock = clock
        self._tracer = tracer or trace.get_tracer(__name__)
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

    async def shutdown(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        while not self._stop.is_set():
            leadership = self._lease.current()
            wait = self._options.tick
            if leadership is not None:
                try:
                    next_at = await self.tick(leadership)
                except Exception as exc:
                    _log.warning("planner: tick failed: %r", exc)
                else:
                    if next_at is not None:
                        until = (next_at - self._clock()).total_seconds()
                        wait = min(max(until, 0.0), self._options.tick)
            self._lease.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait_for_change(), wait)

    async def _wait_for_change(self) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        changed = asyncio.ensure_future(self._lease.changed.wait())
        try:
            await asyncio.wait({stop, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            changed.cancel()

    async def tick(self, leadership: Leadership) -> datetime | None:
        """Record every fire due now; the earliest next fire time of any schedule."""
        plans = await self._repo.scheduled_plans()
        self._metrics.active_schedules.set(len(plans))
        earliest: datetime | None = None
        for plan in plans:
            if self._lease.current() is None:
                return None  # leadership lapsed mid-tick: stop acting at once
            try:
                next_at = await self._plan_one(plan, leadership)
            except StaleEpoch:
                self._metrics.stale_writes.inc()
                _log.warning("planner: epoch %d is stale; stepping down", leadership.epoch)
                return None
            if next_at is not None and (earliest is None or next_at < earliest):
                earliest = next_at
        return earliest

    async def _plan_one(self, plan: StoredPlan, leadership: Leadership) -> datetime | None:
        lp = plan.launch_plan
        schedule = lp.spec.schedule
        try:
            rule = rule_from_proto(
                schedule, activated_at=plan.activated_at, rate_minute=self._options.rate_minute
            )
        except ValidationFailed as exc:
            _log.error("planner: %s has an invalid schedule, not firing it: %s", plan.key, exc)
            return None
        policy = CatchUp.from_proto(schedule.catch_up_policy)
        resume = max(plan.last_fired_at or plan.activated_at, plan.activated_at)
        now = self._clock()
        # Cron math after a long outage can take a while: keep the loop (and lease) responsive.
        fp = await asyncio.to_thread(
            plan_fires,
            rule,
            resume_after=resume,
            now=now,
            policy=policy,
            cap=self._options.cap,
            grace=self._options.grace,
        )
        if fp.cursor is None:
            return fp.next_at
        rows = [
            FireRow(
                name=scheduled_execution_name(lp.id, int(f.at.timestamp())),
                launch_plan=lp.id,
                kind="schedule",
                scheduled_at=f.at,
                inputs=kickoff_inputs(schedule.kickoff_time_input_arg, f.at),
                catch_up=f.catch_up,
            )
            for f in fp.fires
        ]
        with self._tracer.start_as_current_span(
            "scheduler.plan",
            attributes={
                "skyloom.launch_plan": plan.key,
                "skyloom.fires": len(rows),
                "skyloom.skipped": fp.skipped,
                "skyloom.epoch": leadership.epoch,
            },
        ):
            await self._repo.record_schedule_fires(
                lease=self._lease.name,
                epoch=leadership.epoch,
                schedule_key=plan.key,
                fires=rows,
                cursor=fp.cursor,
            )
        catch_ups = sum(f.catch_up for f in fp.fires)
        if catch_ups:
            self._metrics.catch_ups.labels(policy.value).inc(catch_ups)
        if fp.skipped:
            self._metrics.skipped.labels(policy.value).inc(fp.skipped)
            _log.info(
                "planner: %s skipped %d missed time(s) (%s)", plan.key, fp.skipped, policy.value
            )
        if rows:
            self._on_recorded()
        return fp.next_at
