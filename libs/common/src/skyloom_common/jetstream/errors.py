"""Errors of the JetStream toolkit, and which failures are worth retrying.

JetStreamError              base of everything this package raises
├── StreamConfigError       a stream cannot be created or brought to its spec
├── ConsumerDriftError      a durable consumer differs from its spec (``drifts`` says how)
├── ConsumerMissingError    a consumer loop was started on a consumer that does not exist
└── PoisonMessage           raised by a handler: this message cannot be applied (ever, or
                            not now); it is retried alone and dead-lettered after N deliveries
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import nats.errors

from skyloom_common.db import is_unavailable

__all__ = [
    "ConsumerDriftError",
    "ConsumerMissingError",
    "Drift",
    "JetStreamError",
    "PoisonMessage",
    "StreamConfigError",
    "is_transient",
]


class JetStreamError(Exception):
    """Base of the errors raised by :mod:`skyloom_common.jetstream`."""


@dataclass(frozen=True, slots=True)
class Drift:
    """One field whose live value differs from the spec."""

    field: str
    expected: object
    actual: object

    def __str__(self) -> str:
        return f"{self.field}: spec {self.expected!r}, server {self.actual!r}"


class StreamConfigError(JetStreamError):
    """The stream could not be created or updated to its spec (e.g. storage type changed)."""

    def __init__(self, stream: str, message: str, drifts: Sequence[Drift] = ()) -> None:
        detail = "".join(f"\n  {d}" for d in drifts)
        super().__init__(f"stream {stream}: {message}{detail}")
        self.stream = stream
        self.drifts = tuple(drifts)


class ConsumerDriftError(JetStreamError):
    """A durable consumer on the server does not match its spec.

    nats-py's ``pull_subscribe`` would silently keep the old settings; this error names every
    differing field. Fix by changing the spec, or by provisioning with ``DriftPolicy.UPDATE``
    (fields the server can edit) or ``DriftPolicy.RECREATE``.
    """

    def __init__(self, stream: str, durable: str, drifts: Sequence[Drift], hint: str = "") -> None:
        detail = "".join(f"\n  {d}" for d in drifts)
        super().__init__(f"consumer {stream}/{durable} drifted from its spec:{detail}{hint}")
        self.stream = stream
        self.durable = durable
        self.drifts = tuple(drifts)


class ConsumerMissingError(JetStreamError):
    """The durable consumer does not exist; provision it with ``ensure_consumer`` first."""


class PoisonMessage(JetStreamError):
    """Raised by a message handler when the message cannot be applied.

    The rest of the batch commits without it; the message is redelivered on its own after a
    delay and, once delivered ``max_deliveries`` times, written to ``dead_letters`` and
    terminated. ``reason`` is stored with the dead letter.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is an infrastructure fault (retry everything later) rather than a bad
    message: Postgres or NATS unreachable, a serialization conflict or deadlock, a timeout, or
    any error that says ``retryable = True``."""
    if isinstance(exc, PoisonMessage):
        return False
    if is_unavailable(exc) or getattr(exc, "retryable", False) is True:
        return True
    return isinstance(
        exc,
        asyncpg.TransactionRollbackError
        | nats.errors.ConnectionClosedError
        | nats.errors.StaleConnectionError
        | nats.errors.NoServersError
        | asyncio.TimeoutError,
    )
