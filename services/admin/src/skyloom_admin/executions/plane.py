"""The execution half of admin assembled: managers for the RPC mixins, and the long-running
components (event consumer, outbox relay, notification dispatcher).

Admin's ``app.py`` builds one :class:`ExecutionPlane` with :func:`build_execution_plane`, sets
it as ``servicer.execution_plane`` (the attribute the ``ExecutionRpcs``, ``EventRpcs``,
``NodeExecutionRpcs`` and ``SignalRpcs`` mixins read), provisions the streams with
:func:`provision` and runs :meth:`ExecutionPlane.components` next to the gRPC server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy
from prometheus_client import CollectorRegistry

from skyloom_admin.events.ingest import EVENTS_CONSUMER, EventIngest, EventMetrics, events_consumer
from skyloom_admin.events.store import EventStore
from skyloom_admin.executions.admission import Dispatcher
from skyloom_admin.executions.entities import (
    AttributeSource,
    EntitySource,
    NoAttributes,
    PostgresEntities,
)
from skyloom_admin.executions.manager import ExecutionConfig, ExecutionManager
from skyloom_admin.executions.metrics import PhaseSampler
from skyloom_admin.nodes.manager import NodeExecutionManager
from skyloom_admin.notifications.jobs import NotificationDispatcher, NotifyOnTerminal
from skyloom_admin.notifications.senders import LogSender, NotificationSender, WebhookSender
from skyloom_admin.signals.manager import SignalManager
from skyloom_common.jetstream import (
    ConsumerOptions,
    EffectivelyOnceConsumer,
    StreamSpec,
    ensure_consumer,
    ensure_stream,
)
from skyloom_common.lifecycle import Component
from skyloom_common.outbox import Outbox
from skyloom_core import blob

__all__ = [
    "EVENTS_STREAM",
    "WORK_STREAM",
    "ExecutionPlane",
    "build_execution_plane",
    "provision",
]

WORK_STREAM = StreamSpec(
    name="SKYLOOM_WORK",
    subjects=("skyloom.work.>",),
    retention=RetentionPolicy.WORK_QUEUE,
    description="work items for the engine (admin outbox relay -> propeller)",
)
EVENTS_STREAM = StreamSpec(
    name="SKYLOOM_EVENTS",
    subjects=("skyloom.events.>",),
    description="workflow, node and task events (propeller -> admin and watchers)",
)


@dataclass
class ExecutionPlane:
    pool: asyncpg.Pool
    schema: str
    executions: ExecutionManager
    nodes: NodeExecutionManager
    signals: SignalManager
    ingest: EventIngest
    outbox: Outbox
    senders: Mapping[str, NotificationSender] = field(default_factory=dict)
    registry: CollectorRegistry | None = None

    def components(
        self,
        js: JetStreamContext,
        *,
        consumer_options: ConsumerOptions | None = None,
    ) -> list[Component]:
        """The long-running parts: the event consumer (its durable consumer provisioned on
        entry), the notification dispatcher, and the executions-by-phase sampler when metrics
        are on. The outbox relay is not here: admin runs one relay for every area."""
        consumer: EffectivelyOnceConsumer = events_consumer(
            js, self.pool, self.ingest, schema=self.schema, options=consumer_options
        )
        notifier = NotificationDispatcher(self.pool, self.senders)
        components: list[Component] = [_Provisioned(js, consumer), notifier]
        if self.registry is not None:
            components.append(PhaseSampler(self.pool, self.registry))
        return components


async def provision(js: JetStreamContext) -> None:
    """Create (or check) the streams admin publishes to and consumes, and its consumer."""
    await ensure_stream(js, WORK_STREAM)
    await ensure_stream(js, EVENTS_STREAM)
    await ensure_consumer(js, EVENTS_CONSUMER)


def build_execution_plane(
    pool: asyncpg.Pool,
    store: blob.BlobStore,
    *,
    schema: str,
    config: ExecutionConfig | None = None,
    entities: EntitySource | None = None,
    attributes: AttributeSource | None = None,
    registry: CollectorRegistry | None = None,
    allow_private_webhooks: bool = False,
    extra_senders: Mapping[str, NotificationSender] | None = None,
) -> ExecutionPlane:
    """Wire the managers (see the module docstring). ``registry`` gets the metrics."""
    config = config or ExecutionConfig()
    outbox = Outbox(schema)
    events = EventStore()
    executions = ExecutionManager(
        pool, store, entities or PostgresEntities(), attributes or NoAttributes(),
        events, outbox, config,
    )  # fmt: skip
    events.add_terminal_hook(NotifyOnTerminal())
    events.add_terminal_hook(Dispatcher(outbox, executions.work_subject))
    ingest = EventIngest(
        events,
        max_inline_bytes=config.max_inline_bytes,
        metrics=EventMetrics(registry) if registry is not None else None,
    )
    senders: dict[str, NotificationSender] = {
        "log": LogSender(),
        "webhook": WebhookSender(allow_private=allow_private_webhooks),
    }
    senders.update(extra_senders or {})
    return ExecutionPlane(
        pool=pool,
        schema=schema,
        executions=executions,
        nodes=NodeExecutionManager(pool, executions.literal_ref, config.max_inline_bytes),
        signals=SignalManager(pool),
        ingest=ingest,
        outbox=outbox,
        senders=senders,
        registry=registry,
    )


class _Provisioned:
    """The event consumer, with its durable consumer created (or checked) on entry."""

    def __init__(self, js: JetStreamContext, consumer: EffectivelyOnceConsumer) -> None:
        self._js = js
        self.consumer = consumer

    async def __aenter__(self) -> _Provisioned:
        await ensure_consumer(self._js, EVENTS_CONSUMER)
        await self.consumer.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.consumer.__aexit__(et, e, tb)

    async def run(self) -> None:
        await self.consumer.run()

    async def shutdown(self) -> None:
        await self.consumer.shutdown()
