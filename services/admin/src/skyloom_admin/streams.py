"""The JetStream streams admin publishes to (DESIGN "NATS JetStream"), provisioned at start-up.

One declaration for the whole service, so every area publishes through the same outbox and
relay with the same stream config (two declarations that differ would flap on every start).
"""

from __future__ import annotations

from nats.js.api import RetentionPolicy

from skyloom_common.jetstream import StreamSpec

__all__ = ["ENTITIES", "EVENTS", "STREAMS", "WORK", "launch_plan_subject"]

WORK = StreamSpec(
    name="SKYLOOM_WORK",
    subjects=("skyloom.work.>",),
    retention=RetentionPolicy.WORK_QUEUE,
    description="admin outbox relay -> propeller: start and abort work items",
)
EVENTS = StreamSpec(
    name="SKYLOOM_EVENTS",
    subjects=("skyloom.events.>",),
    description="propeller -> admin: workflow, node and task events",
)
ENTITIES = StreamSpec(
    name="SKYLOOM_ENTITIES",
    subjects=("skyloom.entities.>",),
    description="admin outbox relay -> scheduler: launch plan changes",
)
STREAMS = (WORK, EVENTS, ENTITIES)


def launch_plan_subject(project: str, domain: str) -> str:
    """``skyloom.entities.launchplan.<project>.<domain>`` (both validated DNS labels)."""
    return f"skyloom.entities.launchplan.{project}.{domain}"
