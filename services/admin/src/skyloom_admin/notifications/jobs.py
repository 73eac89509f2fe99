"""Notifications on terminal phases: enqueued with the event, delivered by a dispatcher.

:class:`NotifyOnTerminal` is an event-store terminal hook: in the transaction that makes an
execution terminal it writes one ``notification_jobs`` row per matching notification (keyed
by event and index, so a replayed batch adds nothing). :class:`NotificationDispatcher` is a
long-running component that claims due jobs (``FOR UPDATE SKIP LOCKED``), sends them through
the sender registered for their kind, and marks them delivered, or reschedules them with
backoff; a crash between sending and marking sends again (at least once; receivers dedupe on
``Skyloom-Event-Id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import asyncpg

from skyloom_admin.notifications.senders import Notice, NotificationSender, SendFailed
from skyloom_common.db import Connection
from skyloom_idl.admin import execution_pb2, notification_pb2
from skyloom_idl.event import event_pb2

__all__ = ["NotificationDispatcher", "NotifyOnTerminal"]

_log = logging.getLogger(__name__)


class NotifyOnTerminal:
    """Terminal hook writing the notification jobs of an execution's phase."""

    async def __call__(
        self,
        conn: Connection,
        execution: execution_pb2.Execution,
        event: event_pb2.WorkflowExecutionEvent,
    ) -> None:
        if execution.spec.disable_all_notifications:
            return
        snapshot = execution_pb2.Execution()
        snapshot.CopyFrom(execution)
        for i, notification in enumerate(execution.closure.notifications):
            if event.phase not in notification.phases:
                continue
            kind = notification.WhichOneof("type") or "log"
            await conn.execute(
                "INSERT INTO notification_jobs (job_key, kind, notification, execution, event_id)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_key) DO NOTHING",
                f"{event.event_id}:{i}", kind, notification.SerializeToString(),
                snapshot.SerializeToString(), event.event_id,
            )  # fmt: skip


class NotificationDispatcher:
    """Long-running component delivering notification jobs (runtime component contract)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        senders: Mapping[str, NotificationSender],
        *,
        poll_interval: float = 1.0,
        batch_size: int = 20,
        max_attempts: int = 8,
    ) -> None:
        self._pool = pool
        self._senders = dict(senders)
        self._poll = poll_interval
        self._batch = batch_size
        self._max_attempts = max_attempts
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._loop(), name="notification-dispatcher")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()

    async def run(self) -> None:
        if self._task is None:
            await self.__aenter__()
        assert self._task is not None
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def shutdown(self) -> None:
        self._stopping.set()
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10.0)
            except TimeoutError:
                self._task.cancel()

    async def deliver_once(self) -> int:
        """Claim and deliver one batch of due jobs; returns how many were attempted."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, kind, notification, execution, event_id, attempts"
                " FROM notification_jobs WHERE delivered_at IS NULL AND failed_at IS NULL"
                " AND next_attempt_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
            )
            for row in rows:
                await self._deliver(conn, row)
        return len(rows)

    async def _deliver(self, conn: Connection, row: asyncpg.Record) -> None:
        notification = notification_pb2.Notification()
        notification.ParseFromString(row["notification"])
        execution = execution_pb2.Execution()
        execution.ParseFromString(row["execution"])
        sender = self._senders.get(row["kind"])
        attempts = row["attempts"] + 1
        try:
            if sender is None:
                raise SendFailed(f"no sender for {row['kind']!r} notifications", permanent=True)
            await sender.send(Notice(notification, execution, row["event_id"]))
        except SendFailed as exc:
            final = exc.permanent or attempts >= self._max_attempts
            _log.warning("notification %s failed (attempt %d): %s", row["id"], attempts, exc)
            await conn.execute(
                "UPDATE notification_jobs SET attempts = $2, last_error = $3,"
                " failed_at = CASE WHEN $4 THEN now() END,"
                " next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1",
                row["id"], attempts, str(exc)[:1000], final, min(2.0**attempts, 300.0),
            )  # fmt: skip
            return
        await conn.execute(
            "UPDATE notification_jobs SET attempts = $2, delivered_at = now() WHERE id = $1",
            row["id"], attempts,
        )  # fmt: skip

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                count = await self.deliver_once()
            except Exception as exc:  # a process edge: keep delivering after a DB blip
                _log.warning("notification dispatcher round failed: %r", exc)
                count = 0
            if count < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._poll)
