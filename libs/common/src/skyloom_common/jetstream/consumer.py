"""The effectively-once consumer loop: a long-running component around :func:`apply_batch`.

Loop: fetch up to ``batch_size`` messages from a durable pull consumer; apply them in one
Postgres transaction (:mod:`.batch`); after the commit, ``ack_sync()`` each applied or duplicate
message. Rejected messages are retried alone (``nak`` with a growing delay) until they have been
delivered ``max_deliveries`` times, then written to ``dead_letters`` and ``term()``-ed; the loop
carries on. A transient failure (Postgres or NATS down) rolls the batch back, naks it with a
delay and backs off; nothing is acknowledged that is not committed.

Lifecycle (the runtime's component contract): ``async with consumer:`` checks the consumer
exists, binds it and starts the loop; ``await consumer.run()`` returns once it has stopped (and
re-raises if the loop died); ``await consumer.shutdown()`` is idempotent: it stops fetching,
lets the batch in flight finish within ``drain_timeout`` and cancels it after that (a cancelled
batch rolls back and is redelivered later). Bounded: at most ``batch_size`` messages are held
per replica, and the consumer's ``max_ack_pending`` bounds the total.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import asyncpg
import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry import trace

from skyloom_common.jetstream.batch import (
    BatchHandler,
    BatchOutcome,
    InboundMessage,
    MessageHandler,
    apply_batch,
    dead_letter,
    inbound,
)
from skyloom_common.jetstream.errors import ConsumerMissingError, is_transient
from skyloom_common.jetstream.publish import extract_trace_context
from skyloom_common.jetstream.specs import ConsumerSpec
from skyloom_common.jetstream.tables import ConsumerTables

__all__ = ["BatchCommitted", "ConsumerOptions", "ConsumerStats", "EffectivelyOnceConsumer"]

_log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class ConsumerOptions:
    """Tuning of the loop; every duration is in seconds.

    ``max_deliveries``: deliveries of a rejected message before it is dead-lettered (the
    consumer's server-side ``max_deliver``, if set, must not be lower). ``retry_delay`` is the
    first redelivery delay of a rejected message or a failed batch, doubled per delivery up to
    ``max_retry_delay``. ``fetch_timeout`` is how long one fetch waits when the stream is idle.
    """

    batch_size: int = 64
    fetch_timeout: float = 1.0
    max_deliveries: int = 5
    retry_delay: float = 0.5
    max_retry_delay: float = 30.0
    ack_timeout: float = 5.0
    drain_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_deliveries < 1:
            raise ValueError("batch_size and max_deliveries must be at least 1")

    def retry_after(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        return float(min(self.retry_delay * 2 ** max(attempt - 1, 0), self.max_retry_delay))


@dataclass
class ConsumerStats:
    """Counters since start (also what tests and health checks read)."""

    batches: int = 0
    applied: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    failed_batches: int = 0


@dataclass(frozen=True)
class BatchCommitted:
    """Input of the ``after_commit`` hook: the batch is committed, nothing is acked yet."""

    consumer: str
    outcome: BatchOutcome


AfterCommit = Callable[[BatchCommitted], Awaitable[None]]


class EffectivelyOnceConsumer:
    """Applies each message of a durable pull consumer at most once, acking only committed work.

    ``schema`` holds the ``processed_messages`` and ``dead_letters`` tables
    (:func:`consumer_tables_ddl`); ``pool`` is the service's asyncpg pool (one connection is
    used at a time). ``after_commit`` is an observation hook, called between commit and acks.
    ``batch_handler``, if given, applies each batch set-based; ``handler`` remains the
    per-message fallback that isolates a message the batch handler refused (:mod:`.batch`).
    """

    def __init__(
        self,
        js: JetStreamContext,
        pool: asyncpg.Pool,
        spec: ConsumerSpec,
        handler: MessageHandler,
        *,
        schema: str,
        options: ConsumerOptions | None = None,
        after_commit: AfterCommit | None = None,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self._options = options or ConsumerOptions()
        if 0 < spec.max_deliver < self._options.max_deliveries:
            raise ValueError(
                f"consumer {spec.durable}: server max_deliver={spec.max_deliver} is below "
                f"max_deliveries={self._options.max_deliveries}; messages would never be "
                "dead-lettered"
            )
        self._js = js
        self._pool = pool
        self._spec = spec
        self._handler = handler
        self._batch_handler = batch_handler
        self._tables = ConsumerTables(schema)
        self._after_commit = after_commit
        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._in_batch = False

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
        """Bind the durable consumer and start the loop in the background. Idempotent."""
        if self._task is not None:
            return
        try:
            await self._js.consumer_info(self._spec.stream, self._spec.durable)
        except NotFoundError as exc:
            raise ConsumerMissingError(
                f"consumer {self._spec.stream}/{self._spec.durable} does not exist; "
                "provision it with ensure_consumer()"
            ) from exc
        self._sub = await self._js.pull_subscribe_bind(
            durable=self._spec.durable, stream=self._spec.stream
        )
        self._task = asyncio.create_task(self._loop(), name=f"consumer:{self._spec.durable}")

    async def run(self) -> None:
        """Run until :meth:`shutdown`; re-raises whatever stopped the loop unexpectedly."""
        await self.start()
        assert self._task is not None
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # run() itself was cancelled (the loop was cancelled with it)
            # else: shutdown() cancelled the loop after its drain: a normal stop

    async def shutdown(self) -> None:
        """Stop fetching, drain the batch in flight (bounded by ``drain_timeout``). Idempotent."""
        self._stopping.set()
        task = self._task
        if task is not None and not task.done():
            if not self._in_batch:
                task.cancel()  # idle in fetch(): nothing to drain
            done, _ = await asyncio.wait({task}, timeout=self._options.drain_timeout)
            if not done:
                _log.warning("consumer %s: drain deadline passed, cancelling", self._spec.durable)
                task.cancel()
                await asyncio.wait({task})
        if self._sub is not None:
            sub, self._sub = self._sub, None
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            assert self._sub is not None
            try:
                msgs = await self._sub.fetch(self._options.batch_size, self._options.fetch_timeout)
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:
                failures += 1
                _log.warning("consumer %s: fetch failed: %r", self._spec.durable, exc)
                await self._sleep(self._options.retry_after(failures))
                continue
            self._in_batch = True
            try:
                await self._handle(msgs)
                failures = 0
            except Exception as exc:
                if not is_transient(exc):
                    _log.exception("consumer %s: unexpected batch failure", self._spec.durable)
                failures += 1
                self.stats.failed_batches += 1
                delay = self._options.retry_after(failures)
                _log.warning(
                    "consumer %s: batch failed (%r), retry in %.1fs", self._spec.durable, exc, delay
                )
                await _settle(msgs, functools.partial(Msg.nak, delay=delay))
                await self._sleep(delay)
            finally:
                self._in_batch = False

    async def _handle(self, msgs: list[Msg]) -> None:
        pairs = [(inbound(msg), msg) for msg in msgs]
        raw = {id(view): msg for view, msg in pairs}  # views stay alive in `pairs`
        batch = [view for view, _ in pairs]
        with _tracer.start_as_current_span(
            f"process {self._spec.stream}",
            kind=trace.SpanKind.CONSUMER,
            links=_links(batch),
            attributes={"messaging.batch.message_count": len(batch)},
        ):
            async with self._pool.acquire() as conn:
                outcome = await apply_batch(
                    conn, self._tables, self._spec.durable, self._handler, batch,
                    self._batch_handler,
                )  # fmt: skip
                limit = self._options.max_deliveries
                dead = [r for r in outcome.poisoned if r.message.num_delivered >= limit]
                for rejected in dead:
                    await dead_letter(conn, self._tables, self._spec.durable, rejected)
        self.stats.batches += 1
        if self._after_commit is not None:
            await self._after_commit(BatchCommitted(self._spec.durable, outcome))
        done = [raw[id(m)] for m in outcome.applied + outcome.duplicates]
        await _settle(done, functools.partial(Msg.ack_sync, timeout=self._options.ack_timeout))
        self.stats.applied += len(outcome.applied)
        self.stats.duplicates += len(outcome.duplicates)
        dead_ids = {id(r.message) for r in dead}
        for rejected in outcome.poisoned:
            message, msg = rejected.message, raw[id(rejected.message)]
            if id(message) in dead_ids:
                _log.error(
                    "consumer %s: dead-lettered %s after %d deliveries: %s",
                    self._spec.durable, message.msg_id, message.num_delivered, rejected.reason,
                )  # fmt: skip
                await _settle([msg], Msg.term)
                self.stats.dead_lettered += 1
            else:
                delay = self._options.retry_after(message.num_delivered)
                _log.warning(
                    "consumer %s: rejected %s (delivery %d), retrying it alone in %.1fs: %s",
                    self._spec.durable, message.msg_id, message.num_delivered, delay,
                    rejected.reason,
                )  # fmt: skip
                await _settle([msg], functools.partial(Msg.nak, delay=delay))
                self.stats.retried += 1

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _links(batch: list[InboundMessage]) -> list[trace.Link]:
    """Links to the producers' spans (a batch has many parents, so links, not a parent)."""
    links = []
    for message in batch:
        span_context = trace.get_current_span(
            extract_trace_context(message.headers)
        ).get_span_context()
        if span_context.is_valid:
            links.append(trace.Link(span_context))
    return links


async def _settle(msgs: list[Msg], action: Callable[[Msg], Awaitable[object]]) -> None:
    """Ack/nak/term each message; a failure only delays that message (it will be redelivered)."""
    results = await asyncio.gather(*(action(m) for m in msgs), return_exceptions=True)
    for msg, result in zip(msgs, results, strict=True):
        if isinstance(result, Exception):
            _log.warning("could not settle message %s: %r", msg.reply, result)
