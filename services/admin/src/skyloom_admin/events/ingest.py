"""Event ingestion: the SKYLOOM_EVENTS durable consumer and the gRPC entry points, one path.

:class:`EventIngest` parses and validates an event, then applies it through
:class:`~skyloom_admin.events.store.EventStore` in the caller's transaction. Over gRPC the
guard's answer is the reply (ALREADY_EXISTS, FAILED_PRECONDITION); from the stream it is only
logged and the message acknowledged (the producer cannot be answered, and the event must not
be retried forever). A message that cannot be parsed or validated, or names an unknown
execution, is a :class:`PoisonMessage`: retried alone, then dead-lettered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from google.protobuf.message import DecodeError
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter, Histogram

from skyloom_admin.events import batch, validate
from skyloom_admin.events.store import EventStore
from skyloom_common.db import Connection, transaction
from skyloom_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from skyloom_common.jetstream import (
    ConsumerOptions,
    ConsumerSpec,
    EffectivelyOnceConsumer,
    InboundMessage,
    PoisonMessage,
)
from skyloom_idl.event import event_pb2

__all__ = ["EVENTS_CONSUMER", "EventIngest", "EventMetrics", "events_consumer"]

_log = logging.getLogger(__name__)

EVENTS_CONSUMER = ConsumerSpec(
    stream="SKYLOOM_EVENTS",
    durable="admin-events",
    filter_subjects=("skyloom.events.>",),
    ack_wait=60.0,
    max_ack_pending=5000,
    description="admin: persist workflow, node and task events",
)

Event = (
    event_pb2.WorkflowExecutionEvent | event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent
)


class EventMetrics:
    """Events applied by kind and outcome, and the lag from occurrence to persistence."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.events = Counter(
            "skyloom_admin_events",
            "Events seen by admin, by kind and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.lag = Histogram(
            "skyloom_admin_event_lag_seconds",
            "Time from an event's occurred_at to its persistence in admin.",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )


class EventIngest:
    """Parse, validate and apply events (see the module docstring)."""

    def __init__(
        self, store: EventStore, *, max_inline_bytes: int, metrics: EventMetrics | None = None
    ) -> None:
        self.store = store
        self._max_inline = max_inline_bytes
        self._metrics = metrics

    def _observe(self, kind: str, outcome: str, event: Event) -> None:
        if self._metrics is None:
            return
        self._metrics.events.labels(kind, outcome).inc()
        if outcome == "applied" and event.HasField("occurred_at"):
            lag = time.time() - event.occurred_at.ToNanoseconds() / 1e9
            self._metrics.lag.labels(kind).observe(max(lag, 0.0))

    async def apply(self, conn: Connection, kind: str, event: Event) -> None:
        """Validate and apply one event; raises the guard's domain errors."""
        try:
            if isinstance(event, event_pb2.WorkflowExecutionEvent):
                validate.check_workflow_event(event, self._max_inline)
                await self.store.apply_workflow(conn, event)
            elif isinstance(event, event_pb2.NodeExecutionEvent):
                validate.check_node_event(event, self._max_inline)
                await self.store.apply_node(conn, event)
            else:
                validate.check_task_event(event, self._max_inline)
                await self.store.apply_task(conn, event)
        except AlreadyExists:
            self._observe(kind, "duplicate", event)
            raise
        except FailedPrecondition:
            self._observe(kind, "rejected", event)
            raise
        self._observe(kind, "applied", event)

    async def apply_in_transaction(self, pool: asyncpg.Pool, kind: str, event: Event) -> None:
        """The gRPC path: one transaction for one event."""
        async with transaction(pool) as conn:
            await self.apply(conn, kind, event)

    async def handle_batch(self, conn: Connection, messages: Sequence[InboundMessage]) -> None:
        """The consumer's ``BatchHandler``: all new messages of a batch, set-based
        (:mod:`.batch`). Raises on any message :meth:`handle` would reject, so the consumer
        falls back to :meth:`handle` per message and isolates it."""
        items = [_parse(message) for message in messages]
        for _, event in items:
            if isinstance(event, event_pb2.WorkflowExecutionEvent):
                validate.check_workflow_event(event, self._max_inline)
            elif isinstance(event, event_pb2.NodeExecutionEvent):
                validate.check_node_event(event, self._max_inline)
            else:
                validate.check_task_event(event, self._max_inline)
        outcomes = await batch.apply_events(conn, self.store, [event for _, event in items])
        for (kind, event), outcome in zip(items, outcomes, strict=True):
            self._observe(kind, outcome, event)
            if outcome != batch.APPLIED:
                _log.info("event %s not applied: %s", event.event_id, outcome)

    async def handle(self, conn: Connection, message: InboundMessage) -> None:
        """The consumer's handler (``MessageHandler``): one message, in the batch transaction."""
        kind, event = _parse(message)
        try:
            await self.apply(conn, kind, event)
        except (AlreadyExists, FailedPrecondition) as exc:
            _log.info("event %s not applied: %s", event.event_id, exc.message)
        except (InvalidArgument, NotFound) as exc:
            raise PoisonMessage(exc.message) from exc


def _parse(message: InboundMessage) -> tuple[str, Event]:
    """The event a message carries; :class:`PoisonMessage` if it carries none."""
    parts = message.subject.split(".")
    kind = parts[2] if len(parts) >= 3 else ""
    cls = _KINDS.get(kind)
    if cls is None:
        raise PoisonMessage(f"unknown event subject {message.subject!r}")
    event = cls()
    try:
        event.ParseFromString(message.data)
    except DecodeError:
        raise PoisonMessage(f"not a {cls.DESCRIPTOR.full_name}") from None
    if event.event_id != message.msg_id:
        raise PoisonMessage(f"Nats-Msg-Id {message.msg_id} is not the event_id {event.event_id}")
    return kind, event


_KINDS: dict[str, type[Event]] = {
    "workflow": event_pb2.WorkflowExecutionEvent,
    "node": event_pb2.NodeExecutionEvent,
    "task": event_pb2.TaskExecutionEvent,
}


def events_consumer(
    js: JetStreamContext,
    pool: asyncpg.Pool,
    ingest: EventIngest,
    *,
    schema: str,
    spec: ConsumerSpec = EVENTS_CONSUMER,
    options: ConsumerOptions | None = None,
) -> EffectivelyOnceConsumer:
    """The long-running SKYLOOM_EVENTS consumer (provision ``spec`` with ``ensure_consumer``
    first)."""
    return EffectivelyOnceConsumer(
        js, pool, spec, ingest.handle, schema=schema,
        options=options or ConsumerOptions(batch_size=256, fetch_timeout=0.5),
        batch_handler=ingest.handle_batch,
    )  # fmt: skip


def utcnow() -> datetime:
    return datetime.now(UTC)
