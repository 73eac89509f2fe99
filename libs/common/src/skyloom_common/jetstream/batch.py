"""One batch, one transaction: the effectively-once core of the consumer loop.

For a batch of messages, :func:`apply_batch` opens ONE transaction on ``conn`` and, for each
message, inserts ``(consumer, msg_id)`` into ``processed_messages`` (``ON CONFLICT DO NOTHING``)
and calls the handler only when the row is new; then it commits. The caller acknowledges the
messages only after that commit, so:

- a crash before the commit rolls everything back and the messages come again, cleanly;
- a crash after the commit (before the acks) brings them again, the insert conflicts, and
  they are only acknowledged.

A handler that rejects one message (:class:`PoisonMessage`, or any non-transient error) does not
sink the batch: the transaction is rolled back and replayed without that message, which is
returned in ``poisoned`` for the caller to retry alone or dead-letter. A transient error
(database or NATS down, serialization conflict) propagates: nothing commits, the caller backs off.

With a :class:`BatchHandler`, the batch is first tried set-based: one multi-row insert into
``processed_messages`` and one handler call for all newly seen messages. If that handler fails
with a non-transient error, the transaction is rolled back and the batch is applied again one
message at a time as above, so a poison message is isolated exactly as without it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nats.aio.msg import Msg

from skyloom_common.db import Connection
from skyloom_common.jetstream.errors import PoisonMessage, is_transient
from skyloom_common.jetstream.publish import MSG_ID_HEADER
from skyloom_common.jetstream.tables import ConsumerTables

__all__ = [
    "BatchHandler",
    "BatchOutcome",
    "InboundMessage",
    "MessageHandler",
    "Rejected",
    "apply_batch",
    "dead_letter",
    "inbound",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """What a handler sees of one JetStream message.

    ``msg_id`` is the ``Nats-Msg-Id`` header, or ``"<stream>:<stream_seq>"`` for a message
    published without one (stable across redeliveries, but not across re-publishes).
    """

    msg_id: str
    subject: str
    data: bytes
    headers: Mapping[str, str]
    stream: str
    stream_seq: int
    num_delivered: int


def inbound(msg: Msg) -> InboundMessage:
    """The :class:`InboundMessage` view of a nats-py JetStream message."""
    meta = msg.metadata
    headers = dict(msg.headers or {})
    msg_id = headers.get(MSG_ID_HEADER) or f"{meta.stream}:{meta.sequence.stream}"
    return InboundMessage(
        msg_id=msg_id,
        subject=msg.subject,
        data=msg.data,
        headers=headers,
        stream=meta.stream,
        stream_seq=meta.sequence.stream,
        num_delivered=meta.num_delivered,
    )


class MessageHandler(Protocol):
    """Applies one message's effect through ``conn``, inside the consumer's transaction.

    Contract: write only through ``conn`` (nothing outside the transaction: no RPCs, no files),
    so a rolled-back attempt leaves no trace. The handler may run more than once for a message
    (a replayed batch, a redelivery after a crash before commit); its effect commits at most
    once. Raise :class:`PoisonMessage` for a message that cannot be applied; let infrastructure
    errors (``Unavailable``, asyncpg connection errors) propagate so the batch is retried.
    """

    async def __call__(self, conn: Connection, message: InboundMessage) -> None: ...


class BatchHandler(Protocol):
    """Applies the effect of several messages through ``conn``, inside the batch transaction.

    ``messages`` are the batch's newly seen messages (no duplicate ``msg_id``), in delivery
    order; the effect must equal applying them one at a time in that order with the
    per-message handler. Same contract as :class:`MessageHandler` otherwise; raising any
    non-transient error (not only :class:`PoisonMessage`) rolls the batch back and makes the
    consumer apply it message by message, so the bad message is isolated.
    """

    async def __call__(self, conn: Connection, messages: Sequence[InboundMessage]) -> None: ...


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message the handler refused, with the error it raised."""

    message: InboundMessage
    error: BaseException

    @property
    def reason(self) -> str:
        if isinstance(self.error, PoisonMessage):
            return self.error.reason
        return f"{type(self.error).__name__}: {self.error}"


@dataclass
class BatchOutcome:
    """What happened to each message of a batch (every message is in exactly one list)."""

    applied: list[InboundMessage] = field(default_factory=list)
    duplicates: list[InboundMessage] = field(default_factory=list)
    poisoned: list[Rejected] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, rejected: Rejected) -> None:
        self.rejected = rejected


async def apply_batch(
    conn: Connection,
    tables: ConsumerTables,
    consumer: str,
    handler: MessageHandler,
    messages: Sequence[InboundMessage],
    batch_handler: BatchHandler | None = None,
) -> BatchOutcome:
    """Apply ``messages`` in one committed transaction; see the module docstring."""
    if batch_handler is not None:
        outcome = await _apply_set(conn, tables, consumer, batch_handler, messages)
        if outcome is not None:
            return outcome
    pending = list(messages)
    poisoned: list[Rejected] = []
    insert = (
        f"INSERT INTO {tables.processed} (consumer, msg_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING true"
    )
    while True:
        outcome = BatchOutcome(poisoned=poisoned)
        try:
            async with conn.transaction():
                for message in pending:
                    if await conn.fetchval(insert, consumer, message.msg_id) is None:
                        outcome.duplicates.append(message)
                        continue
                    try:
                        await handler(conn, message)
                    except Exception as exc:
                        if is_transient(exc):
                            raise
                        raise _Refused(Rejected(message, exc)) from exc
                    outcome.applied.append(message)
        except _Refused as refused:
            # Roll back, set the message aside, replay the rest: one bad message must not
            # hold the others, and savepoints per message would tax every healthy batch.
            poisoned.append(refused.rejected)
            pending.remove(refused.rejected.message)
            continue
        return outcome


async def _apply_set(
    conn: Connection,
    tables: ConsumerTables,
    consumer: str,
    handler: BatchHandler,
    messages: Sequence[InboundMessage],
) -> BatchOutcome | None:
    """The set-based attempt; ``None`` when the handler refused and the batch rolled back."""
    insert = (
        f"INSERT INTO {tables.processed} (consumer, msg_id)"
        " SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING msg_id"
    )
    try:
        async with conn.transaction():
            rows = await conn.fetch(insert, consumer, [m.msg_id for m in messages])
            new = {row["msg_id"] for row in rows}
            outcome = BatchOutcome()
            for message in messages:
                if message.msg_id in new:
                    new.discard(message.msg_id)  # a second copy in the batch is a duplicate
                    outcome.applied.append(message)
                else:
                    outcome.duplicates.append(message)
            if outcome.applied:
                await handler(conn, outcome.applied)
    except Exception as exc:
        if is_transient(exc):
            raise
        _log.info("consumer %s: batch refused (%r), applying it message by message", consumer, exc)
        return None
    return outcome


async def dead_letter(
    conn: Connection, tables: ConsumerTables, consumer: str, rejected: Rejected
) -> None:
    """Record ``rejected`` in ``dead_letters`` and mark it processed, in one transaction.

    Marking it processed means a later redelivery or re-publish of the same id is acknowledged
    without running the handler again; replaying a dead letter means deleting both rows.
    """
    m = rejected.message
    async with conn.transaction():
        await conn.execute(
            f"INSERT INTO {tables.processed} (consumer, msg_id) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING",
            consumer,
            m.msg_id,
        )
        await conn.execute(
            f"INSERT INTO {tables.dead_letters} (consumer, msg_id, stream, stream_seq, subject,"
            " headers, payload, error, num_delivered)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9) ON CONFLICT DO NOTHING",
            consumer,
            m.msg_id,
            m.stream,
            m.stream_seq,
            m.subject,
            json.dumps(dict(m.headers)),
            m.data,
            rejected.reason,
            m.num_delivered,
        )
