"""The JetStream streams and durable consumers of the scheduler.

SKYLOOM_ENTITIES and SKYLOOM_EVENTS belong to admin: the scheduler only creates them when they
are missing (so it can start first) and never updates their config (:func:`ensure_exists`);
SKYLOOM_TRIGGERS is the scheduler's own and is kept at its spec.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError

from skyloom_common.jetstream import (
    ConsumerSpec,
    DriftPolicy,
    StreamSpec,
    ensure_consumer,
    ensure_stream,
)

__all__ = [
    "CONSUMERS",
    "ENTITIES",
    "ENTITY_CONSUMER",
    "EVENTS",
    "EXECUTION_CONSUMER",
    "MESSAGE_CONSUMER",
    "TRIGGERS",
    "ensure_exists",
    "provision",
    "trigger_subject",
]

ENTITIES = StreamSpec(
    name="SKYLOOM_ENTITIES",
    subjects=("skyloom.entities.>",),
    description="admin outbox relay -> scheduler: launch plan changes",
)
EVENTS = StreamSpec(
    name="SKYLOOM_EVENTS",
    subjects=("skyloom.events.>",),
    description="propeller -> admin: workflow, node and task events",
)
TRIGGERS = StreamSpec(
    name="SKYLOOM_TRIGGERS",
    subjects=("skyloom.triggers.>",),
    description="anyone -> scheduler: messages that fire launch plans with a SubjectTrigger",
)
ENTITY_CONSUMER = ConsumerSpec(
    stream=ENTITIES.name,
    durable="scheduler-entities",
    filter_subjects=("skyloom.entities.launchplan.>",),
    description="scheduler: launch plan changes",
)
EXECUTION_CONSUMER = ConsumerSpec(
    stream=EVENTS.name,
    durable="scheduler-execution-triggers",
    filter_subjects=("skyloom.events.workflow.>",),
    description="scheduler: workflow events for execution triggers",
)
MESSAGE_CONSUMER = ConsumerSpec(
    stream=TRIGGERS.name,
    durable="scheduler-message-triggers",
    filter_subjects=("skyloom.triggers.>",),
    description="scheduler: trigger messages",
)
CONSUMERS = (ENTITY_CONSUMER, EXECUTION_CONSUMER, MESSAGE_CONSUMER)


def trigger_subject(project: str, domain: str, subject: str) -> str:
    """``skyloom.triggers.<project>.<domain>.<subject>``."""
    return f"skyloom.triggers.{project}.{domain}.{subject}"


async def ensure_exists(js: JetStreamContext, spec: StreamSpec) -> None:
    """Create another service's stream if it is missing; leave an existing one alone."""
    try:
        await js.stream_info(spec.name)
    except NotFoundError:
        try:
            await js.add_stream(spec.to_config())
        except BadRequestError:
            await js.stream_info(spec.name)  # created meanwhile by its owner: fine


async def provision(js: JetStreamContext) -> None:
    """Streams and the three durable consumers (idempotent; every replica calls it)."""
    await ensure_exists(js, ENTITIES)
    await ensure_exists(js, EVENTS)
    await ensure_stream(js, TRIGGERS)
    for spec in CONSUMERS:
        await ensure_consumer(js, spec, on_drift=DriftPolicy.UPDATE)
