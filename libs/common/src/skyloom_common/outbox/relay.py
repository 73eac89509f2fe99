"""The outbox relay: publishes committed outbox rows to JetStream, at least once, in id order.

One round (:meth:`OutboxRelay.relay_once`), in one transaction:

1. claim up to ``batch_size`` unpublished rows, oldest first, ``FOR UPDATE SKIP LOCKED`` (other
   relay replicas skip them and take the next rows; rows are never read as "ids above the last
   one seen", because bigserial ids become visible out of commit order);
2. publish each with ``Nats-Msg-Id = msg_id``, waiting for the stream's ack;
3. mark them ``published_at = now()`` and commit.

A crash anywhere before the commit rolls the claim back; the rows are published again by the
next round, and JetStream drops the repeats as duplicates **provided the stream's
``duplicate_window`` is longer than the relay outage** (default window in ``StreamSpec``: 10 min).
After a longer outage a repeat is stored twice; consumers built on
:class:`~skyloom_common.jetstream.EffectivelyOnceConsumer` still apply it once.

Wake-ups: a LISTEN on the outbox's channel (a hint sent by ``enqueue`` at commit) on a pooled
connection held by the relay, re-established after the connection is lost (Postgres restart),
plus polling every ``poll_interval`` in case a notification is missed. The relay holds one pool
connection for LISTEN and uses one more per round: size the pool for it.

Lifecycle: the runtime's component contract (``async with``, ``run()``, idempotent
``shutdown()`` draining the round in flight within ``drain_timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import asyncpg
from nats.js import JetStreamContext

from skyloom_common.jetstream import PublishResult, is_transient, publish
from skyloom_common.outbox.metrics import OutboxMetrics
from skyloom_common.outbox.outbox import Outbox

__all__ = ["BatchPublished", "OutboxRelay", "OutboxRow", "RelayOptions", "RelayStats"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayOptions:
    """Tuning of the relay; durations in seconds. ``retain_published=None`` keeps rows forever."""

    batch_size: int = 100
    poll_interval: float = 1.0
    ack_timeout: float = 5.0
    retry_delay: float = 0.5
    max_retry_delay: float = 10.0
    keepalive_interval: float = 15.0
    retain_published: float | None = 7 * 24 * 3600.0
    prune_interval: float = 600.0
    drain_timeout: float = 10.0

    def retry_after(self, failures: int) -> float:
        return float(min(self.retry_delay * 2 ** max(failures - 1, 0), self.max_retry_delay))


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    msg_id: str
    subject: str
    payload: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class BatchPublished:
    """Input of the ``after_publish`` hook: every row is published, none is marked yet."""

    schema: str
    rows: tuple[OutboxRow, ...]
    results: tuple[PublishResult, ...]


@dataclass
class RelayStats:
    rounds: int = 0
    published: int = 0
    duplicates: int = 0
    failures: int = 0
    notifications: int = 0
    listen_sessions: int = 0


AfterPublish = Callable[[BatchPublished], Awaitable[None]]


class OutboxRelay:
    """Long-running publisher of one schema's outbox (see the module docstring)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        outbox: Outbox,
        *,
        options: RelayOptions | None = None,
        metrics: OutboxMetrics | None = None,
        after_publish: AfterPublish | None = None,
    ) -> None:
        self._pool = pool
        self._js = js
        self._outbox = outbox
        self._options = options or RelayOptions()
        self._metrics = metrics
        self._after_publish = after_publish
        self.stats = RelayStats()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._claim = (
            f"SELECT id, msg_id, subject, payload, headers FROM {outbox.table}"
            " WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
        )
        self._mark = f"UPDATE {outbox.table} SET published_at = now() WHERE id = ANY($1::bigint[])"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    async def start(self) -> None:
        """Start listening and relaying in the background. Idempotent."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._relay_loop(), name=f"outbox-relay:{self._outbox.schema}"),
            asyncio.create_task(self._listen_loop(), name=f"outbox-listen:{self._outbox.schema}"),
        ]

    async def run(self) -> None:
        """Run until :meth:`shutdown`; re-raises whatever stopped a loop unexpectedly."""
        await self.start()
        try:
            await asyncio.gather(*self._tasks)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # run() itself was cancelled (the loops were cancelled with it)
            # else: shutdown() cancelled a loop after its drain: a normal stop

    async def shutdown(self) -> None:
        """Stop; let the round in flight finish within ``drain_timeout``. Idempotent."""
        self._stopping.set()
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self._options.drain_timeout)
            for task in late:
                _log.warning("outbox relay %s: drain deadline passed", self._outbox.schema)
                task.cancel()
            if late:
                await asyncio.wait(late)

    async def backlog(self) -> int:
        """Rows waiting to be published (also exported as ``skyloom_outbox_backlog``)."""
        async with self._pool.acquire() as conn:
            return await self._outbox.backlog(conn)

    async def relay_once(self) -> int:
        """One round: claim, publish, mark, commit. Returns how many rows were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = [_row(r) for r in await conn.fetch(self._claim, self._options.batch_size)]
            if not rows:
                return 0
            results = []
            for row in rows:
                results.append(
                    await publish(
                        self._js,
                        row.subject,
                        row.payload,
                        msg_id=row.msg_id,
                        headers=row.headers,
                        ack_timeout=self._options.ack_timeout,
                    )
                )
            if self._after_publish is not None:
                await self._after_publish(
                    BatchPublished(self._outbox.schema, tuple(rows), tuple(results))
                )
            await conn.execute(self._mark, [row.id for row in rows])
        duplicates = sum(r.duplicate for r in results)
        self.stats.published += len(rows)
        self.stats.duplicates += duplicates
        if self._metrics is not None:
            self._metrics.published.labels(self._outbox.schema).inc(len(rows))
            self._metrics.duplicates.labels(self._outbox.schema).inc(duplicates)
        return len(rows)

    async def _relay_loop(self) -> None:
        failures = 0
        next_gauge = next_prune = time.monotonic()
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                count = await self.relay_once()
                self.stats.rounds += 1
                failures = 0
            except Exception as exc:
                count = 0
                failures += 1
                self.stats.failures += 1
                if self._metrics is not None:
                    self._metrics.failures.labels(self._outbox.schema).inc()
                log = _log.warning if is_transient(exc) else _log.exception
                log("outbox relay %s: round failed: %r", self._outbox.schema, exc)
            now = time.monotonic()
            if self._metrics is not None and now >= next_gauge:
                # Also after a failure: a growing backlog during a NATS outage is the signal.
                next_gauge = now + self._options.poll_interval
                await self._refresh_gauge()
            if failures:
                await self._wait(self._stopping, self._options.retry_after(failures))
                continue
            if self._options.retain_published is not None and now >= next_prune:
                next_prune = now + self._options.prune_interval
                await self._prune(self._options.retain_published)
            if count < self._options.batch_size:
                await self._wait(self._wake, self._options.poll_interval)

    async def _listen_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self._listen_session()
                failures = 0
            except Exception as exc:
                failures += 1
                _log.warning("outbox relay %s: LISTEN failed: %r", self._outbox.schema, exc)
            if not self._stopping.is_set():
                await self._wait(self._stopping, self._options.retry_after(max(failures, 1)))

    async def _listen_session(self) -> None:
        """LISTEN on one pooled connection until it is lost (or shutdown); then release it."""
        lost = asyncio.Event()
        conn = await self._pool.acquire()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(self._outbox.channel, self._on_notify)
            self.stats.listen_sessions += 1
            self._wake.set()  # rows committed while nobody listened
            while not (lost.is_set() or self._stopping.is_set()):
                await self._wait(lost, self._options.keepalive_interval)
                if not (lost.is_set() or self._stopping.is_set()):
                    # A half-open connection never reports termination: probe it.
                    await conn.execute("SELECT 1", timeout=self._options.ack_timeout)
        finally:
            with contextlib.suppress(Exception):
                await conn.remove_listener(self._outbox.channel, self._on_notify)
            try:
                await self._pool.release(conn, timeout=1.0)
            except Exception:
                conn.terminate()

    def _on_notify(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self.stats.notifications += 1
        self._wake.set()

    async def _refresh_gauge(self) -> None:
        assert self._metrics is not None
        with contextlib.suppress(Exception):
            self._metrics.backlog.labels(self._outbox.schema).set(await self.backlog())

    async def _prune(self, older_than: float) -> None:
        try:
            async with self._pool.acquire() as conn:
                removed = await self._outbox.prune(conn, older_than)
            if removed:
                _log.info("outbox relay %s: pruned %d published rows", self._outbox.schema, removed)
        except Exception as exc:
            _log.warning("outbox relay %s: prune failed: %r", self._outbox.schema, exc)

    async def _wait(self, event: asyncio.Event, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early on ``event`` or on shutdown."""
        waiters = {
            asyncio.ensure_future(event.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        }
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


def _row(record: asyncpg.Record) -> OutboxRow:
    headers = record["headers"]
    return OutboxRow(
        id=record["id"],
        msg_id=record["msg_id"],
        subject=record["subject"],
        payload=record["payload"],
        headers=json.loads(headers) if isinstance(headers, str) else dict(headers),
    )
