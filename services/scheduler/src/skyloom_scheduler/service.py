"""Assembling the scheduler: migrations, pool, NATS, lease, planner, dispatcher, consumers.

:func:`open_scheduler` builds one replica around a Postgres pool and a NATS connection and
yields a :class:`Scheduler` whose ``service`` runs the components; :func:`setup` yields just
the service, which is what :func:`skyloom_common.lifecycle.run_main` (the ``skyloom-scheduler``
script, the sandbox) wants. Tests pass their own :class:`AdminClient` and clock.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import grpc
import nats
from nats.aio.client import Client as NATS

from skyloom_common.db import create_pool, migrate
from skyloom_common.errors import ConfigError
from skyloom_common.jetstream import EffectivelyOnceConsumer
from skyloom_common.lifecycle import Service, run_main
from skyloom_common.runtime import ServiceRuntime
from skyloom_core import blob
from skyloom_scheduler.admin import AdminClient, GrpcAdminClient
from skyloom_scheduler.dispatcher import DispatchOptions, FireDispatcher
from skyloom_scheduler.lease import LeaderLease
from skyloom_scheduler.metrics import SchedulerMetrics
from skyloom_scheduler.planner import FirePlanner, PlannerOptions
from skyloom_scheduler.repository import SchedulerRepository
from skyloom_scheduler.resync import Resync
from skyloom_scheduler.settings import SERVICE_NAME, SchedulerSettings, load
from skyloom_scheduler.streams import (
    ENTITY_CONSUMER,
    EXECUTION_CONSUMER,
    MESSAGE_CONSUMER,
    provision,
)
from skyloom_scheduler.triggers import (
    BlobOutputReader,
    EntityHandler,
    ExecutionEventHandler,
    TriggerMessageHandler,
)

__all__ = ["LEASE_NAME", "MIGRATIONS", "Scheduler", "open_scheduler", "run", "setup"]

MIGRATIONS = Path(__file__).parent / "migrations"
LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class Scheduler:
    """One assembled replica."""

    runtime: ServiceRuntime
    pool: asyncpg.Pool
    nats: NATS
    repository: SchedulerRepository
    metrics: SchedulerMetrics
    lease: LeaderLease
    planner: FirePlanner
    dispatcher: FireDispatcher
    resync: Resync
    consumers: tuple[EffectivelyOnceConsumer, ...]
    service: Service


def _instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def open_scheduler(
    settings: SchedulerSettings,
    *,
    runtime: ServiceRuntime | None = None,
    admin: AdminClient | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[Scheduler]:
    """Migrate the schema, connect, provision, build the components; release all on exit."""
    if settings.postgres.dsn is None:
        raise ConfigError.for_field("postgres.dsn", "the scheduler needs a Postgres DSN")
    dsn = settings.postgres.dsn.get_secret_value()
    section = settings.scheduler
    runtime = runtime or ServiceRuntime.from_settings(SERVICE_NAME, settings)
    tracer = runtime.tracer_provider.get_tracer("skyloom_scheduler")
    await migrate(dsn, MIGRATIONS, section.schema_name)
    async with AsyncExitStack() as stack:
        pool: asyncpg.Pool = await create_pool(
            dsn,
            min_size=settings.postgres.pool_min_size,
            max_size=settings.postgres.pool_max_size,
            connect_timeout=settings.postgres.connect_timeout_seconds,
            statement_timeout=section.statement_timeout_seconds,
            schema=section.schema_name,
            application_name="skyloom-scheduler",
        )
        stack.push_async_callback(pool.close)
        if admin is None:
            channel = grpc.aio.insecure_channel(settings.admin.target)
            stack.push_async_callback(channel.close)
            token = settings.admin.token.get_secret_value() if settings.admin.token else None
            admin = GrpcAdminClient(
                channel,
                token=token,
                header=settings.admin.header,
                timeout=settings.admin.timeout_seconds,
            )
        outputs = None
        if settings.blob.prefix is not None:
            store = blob.store_for(
                settings.blob.prefix,
                blob.BlobSettings(s3=blob.S3Settings(endpoint_url=settings.blob.endpoint_url)),
            )
            stack.push_async_callback(store.aclose)
            outputs = BlobOutputReader(store)
        repository = SchedulerRepository(pool)
        metrics = SchedulerMetrics(runtime.registry)

        async def db_now() -> datetime:
            async with pool.acquire() as conn:
                now: datetime = await conn.fetchval("SELECT now()")
            return now

        resync = Resync(repository, admin, db_now=db_now, retry=section.resync_retry_seconds)

        async def on_reconnect() -> None:
            resync.request()

        nats_token = settings.nats.token.get_secret_value() if settings.nats.token else None
        nc = await nats.connect(
            settings.nats.url,
            token=nats_token,
            name="skyloom-scheduler",
            reconnected_cb=on_reconnect,
            max_reconnect_attempts=-1,
        )
        stack.push_async_callback(nc.close)
        js = nc.jetstream()
        await provision(js)
        lease = LeaderLease(
            repository,
            name=LEASE_NAME,
            owner=section.instance_id or _instance_id(),
            ttl=section.lease_ttl_seconds,
            renew=section.lease_renew_seconds,
            margin=section.lease_margin_seconds,
            metrics=metrics,
        )
        dispatcher = FireDispatcher(
            repository,
            admin,
            metrics,
            options=DispatchOptions(
                batch=section.dispatch_batch,
                poll=section.dispatch_poll_seconds,
                claim=section.dispatch_claim_seconds,
                retry=section.dispatch_retry_seconds,
                max_retry=section.dispatch_max_retry_seconds,
            ),
            clock=clock,
            tracer=tracer,
        )
        planner = FirePlanner(
            repository,
            lease,
            metrics,
            options=PlannerOptions(
                tick=section.tick_seconds,
                cap=section.catch_up_cap,
                grace=section.catch_up_grace_seconds,
                rate_minute=section.rate_minute_seconds,
            ),
            on_recorded=dispatcher.wake.set,
            clock=clock,
            tracer=tracer,
        )

        async def wake_dispatcher(_: object) -> None:
            dispatcher.wake.set()

        consumers = (
            EffectivelyOnceConsumer(
                js, pool, ENTITY_CONSUMER, EntityHandler(), schema=section.schema_name
            ),
            EffectivelyOnceConsumer(
                js,
                pool,
                EXECUTION_CONSUMER,
                ExecutionEventHandler(clock, outputs),
                schema=section.schema_name,
                after_commit=wake_dispatcher,
            ),
            EffectivelyOnceConsumer(
                js,
                pool,
                MESSAGE_CONSUMER,
                TriggerMessageHandler(clock),
                schema=section.schema_name,
                after_commit=wake_dispatcher,
            ),
        )
        # Shutdown runs in reverse: the planner stops before the lease is released.
        service = runtime.service(lease, resync, *consumers, dispatcher, planner, stop_timeout=15)
        yield Scheduler(
            runtime, pool, nc, repository, metrics, lease, planner, dispatcher, resync,
            consumers, service,
        )  # fmt: skip


@asynccontextmanager
async def setup(settings: SchedulerSettings | None = None) -> AsyncIterator[Service]:
    """The scheduler service, ready to ``run()``; settings default to :func:`load`."""
    settings = settings or load()
    runtime = ServiceRuntime.from_settings(SERVICE_NAME, settings, install_global_tracer=True)
    async with open_scheduler(settings, runtime=runtime) as app:
        yield app.service


def run(settings: SchedulerSettings | None = None) -> int:
    """Run until SIGTERM/SIGINT; the process exit code."""
    return run_main(lambda: setup(settings))
