"""Publishing with a deterministic ``Nats-Msg-Id`` and W3C trace context.

:func:`publish` waits for the stream's acknowledgement and reports whether JetStream saw the id
before (inside the stream's ``duplicate_window``), in which case nothing was stored twice.

Trace context (``traceparent``/``tracestate``) goes in through OpenTelemetry's global propagator;
with no tracer configured that is a no-op. A ``traceparent`` already in ``headers`` is kept, so an
outbox row carries the context of the request that wrote it, not of the relay that sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nats.js import JetStreamContext
from opentelemetry import propagate
from opentelemetry.context import Context

__all__ = ["MSG_ID_HEADER", "PublishResult", "extract_trace_context", "publish", "trace_headers"]

MSG_ID_HEADER = "Nats-Msg-Id"


@dataclass(frozen=True, slots=True)
class PublishResult:
    """The stream's answer: where the message is, and whether it was a duplicate."""

    stream: str
    seq: int
    duplicate: bool


def trace_headers(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``headers`` with the current trace context added (unless already present)."""
    carrier = dict(headers or {})
    if "traceparent" not in carrier:
        propagate.inject(carrier)
    return carrier


def extract_trace_context(headers: Mapping[str, str] | None) -> Context:
    """The trace context carried by a message's headers (empty context if none)."""
    return propagate.extract(dict(headers or {}))


async def publish(
    js: JetStreamContext,
    subject: str,
    payload: bytes,
    *,
    msg_id: str,
    headers: Mapping[str, str] | None = None,
    ack_timeout: float | None = None,
    expected_stream: str | None = None,
) -> PublishResult:
    """Publish ``payload`` with ``Nats-Msg-Id = msg_id`` and wait for the stream's ack.

    ``msg_id`` must be deterministic for the fact being published (same fact, same id), which
    is what makes a retry after an unknown outcome safe. Raises nats-py's errors when no
    stream answers (``NoStreamResponseError``) or the ack does not come within
    ``ack_timeout`` seconds (default: the JetStream context's timeout).
    """
    if not msg_id:
        raise ValueError("msg_id must be a non-empty deterministic id")
    carrier = trace_headers(headers)
    carrier[MSG_ID_HEADER] = msg_id
    ack = await js.publish(
        subject, payload, timeout=ack_timeout, stream=expected_stream, headers=carrier
    )
    return PublishResult(stream=ack.stream, seq=ack.seq, duplicate=bool(ack.duplicate))
