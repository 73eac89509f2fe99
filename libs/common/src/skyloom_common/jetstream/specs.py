"""Declarative stream and durable pull-consumer specs, and drift detection against the server.

Specs are plain frozen dataclasses a service declares next to its code; :mod:`.provision` makes
the server match them. :func:`consumer_drift` and :func:`stream_drift` are pure: they compare the
fields a spec manages with the config the server reports, ignoring server-side defaults the spec
does not mention.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from skyloom_common.jetstream.errors import Drift

__all__ = ["ConsumerSpec", "DriftPolicy", "StreamSpec", "consumer_drift", "stream_drift"]


class DriftPolicy(enum.Enum):
    """What ``ensure_consumer`` does when the live consumer differs from its spec."""

    FAIL = "fail"
    """Raise :class:`ConsumerDriftError` naming every differing field (the default)."""
    UPDATE = "update"
    """Ask the server to update the consumer in place; fields it cannot edit (deliver policy,
    durable name...) still raise :class:`ConsumerDriftError`."""
    RECREATE = "recreate"
    """Delete and re-create the consumer. Its delivery state is lost: on a limits stream with
    ``deliver_policy=ALL`` every retained message is delivered again (the effectively-once
    consumer's dedupe table absorbs that, at a cost)."""


@dataclass(frozen=True)
class StreamSpec:
    """A stream as a service needs it.

    ``duplicate_window`` (seconds) is how long JetStream remembers a ``Nats-Msg-Id``; it must be
    at least the longest outbox-relay outage you expect, or a re-publish after the outage lands
    twice (consumers still apply it once, by their own dedupe table). Default: 10 minutes.
    """

    name: str
    subjects: tuple[str, ...]
    retention: RetentionPolicy = RetentionPolicy.LIMITS
    storage: StorageType = StorageType.FILE
    duplicate_window: float = 600.0
    max_age: float = 0.0
    max_msgs: int = -1
    max_bytes: int = -1
    replicas: int = 1
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.subjects:
            raise ValueError(f"stream {self.name}: at least one subject is required")
        if self.duplicate_window <= 0:
            raise ValueError(f"stream {self.name}: duplicate_window must be positive")

    def to_config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects),
            retention=self.retention,
            storage=self.storage,
            duplicate_window=self.duplicate_window,
            max_age=self.max_age,
            max_msgs=self.max_msgs,
            max_bytes=self.max_bytes,
            num_replicas=self.replicas,
        )


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer with explicit acks.

    ``max_deliver`` defaults to -1 (unlimited): dead-lettering is the consumer loop's job, since a
    server-side limit silently parks a message once reached. ``ack_wait`` (seconds) must exceed
    the time one batch takes, or messages are redelivered to another replica meanwhile (which is
    safe, the dedupe table absorbs it, but wasteful).
    """

    stream: str
    durable: str
    filter_subjects: tuple[str, ...] = ()
    ack_wait: float = 30.0
    max_deliver: int = -1
    backoff: tuple[float, ...] = ()
    max_ack_pending: int = 1000
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL
    description: str | None = None

    def to_config(self) -> ConsumerConfig:
        single = self.filter_subjects[0] if len(self.filter_subjects) == 1 else None
        many = list(self.filter_subjects) if len(self.filter_subjects) > 1 else None
        return ConsumerConfig(
            durable_name=self.durable,
            description=self.description,
            deliver_policy=self.deliver_policy,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            max_deliver=self.max_deliver,
            backoff=list(self.backoff) or None,
            filter_subject=single,
            filter_subjects=many,
            max_ack_pending=self.max_ack_pending,
        )


def _same(expected: object, actual: object) -> bool:
    if isinstance(expected, float) and isinstance(actual, int | float):
        # Durations travel as integer nanoseconds; compare at microsecond precision.
        return math.isclose(expected, float(actual), abs_tol=1e-6)
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    return expected == actual


def _enum_value(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def consumer_drift(spec: ConsumerSpec, actual: ConsumerConfig) -> list[Drift]:
    """Every field ``spec`` manages whose value on the server differs."""
    actual_filters = sorted(
        ([actual.filter_subject] if actual.filter_subject else []) + (actual.filter_subjects or [])
    )
    pairs: list[tuple[str, object, object]] = [
        ("filter_subjects", sorted(spec.filter_subjects), actual_filters),
        ("ack_policy", AckPolicy.EXPLICIT.value, _enum_value(actual.ack_policy)),
        ("deliver_policy", spec.deliver_policy.value, _enum_value(actual.deliver_policy)),
        ("ack_wait", spec.ack_wait, actual.ack_wait),
        ("max_deliver", spec.max_deliver, actual.max_deliver),
        ("backoff", list(spec.backoff), list(actual.backoff or [])),
        ("max_ack_pending", spec.max_ack_pending, actual.max_ack_pending),
        ("description", spec.description, actual.description),
        ("deliver_subject (push consumer)", None, actual.deliver_subject),
    ]
    return [Drift(f, e, a) for f, e, a in pairs if not _same(e, a)]


def stream_drift(spec: StreamSpec, actual: StreamConfig) -> list[Drift]:
    """Every field ``spec`` manages whose value on the server differs."""
    pairs: list[tuple[str, object, object]] = [
        ("subjects", sorted(spec.subjects), sorted(actual.subjects or [])),
        ("retention", spec.retention.value, _enum_value(actual.retention)),
        ("storage", spec.storage.value, _enum_value(actual.storage)),
        ("duplicate_window", spec.duplicate_window, actual.duplicate_window),
        ("max_age", spec.max_age, actual.max_age),
        ("max_msgs", spec.max_msgs, actual.max_msgs),
        ("max_bytes", spec.max_bytes, actual.max_bytes),
        ("replicas", spec.replicas, actual.num_replicas),
        ("description", spec.description, actual.description),
    ]
    return [Drift(f, e, a) for f, e, a in pairs if not _same(e, a)]
