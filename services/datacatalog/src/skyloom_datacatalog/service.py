"""Assembling the datacatalog: migrations, pool, managers, gRPC server, metrics.

:func:`open_datacatalog` builds everything around one Postgres pool and yields a
:class:`Datacatalog` whose ``service`` runs the components (metrics listener, gRPC server,
reservation gauge). :func:`setup` is the same, yielding just the service — what
:func:`skyloom_common.lifecycle.run_main` (the ``skyloom-datacatalog`` script, the sandbox) wants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from skyloom_common.db import create_pool, migrate, translate_error
from skyloom_common.errors import ConfigError, SkyloomError
from skyloom_common.lifecycle import Service, run_main
from skyloom_common.rpc import GrpcServer, bind_service
from skyloom_common.runtime import ServiceRuntime
from skyloom_datacatalog.manager import CatalogManager
from skyloom_datacatalog.metrics import CatalogMetrics, ReservationGauge
from skyloom_datacatalog.reservations import ReservationManager, ReservationPolicy
from skyloom_datacatalog.servicer import DataCatalogServicer
from skyloom_datacatalog.settings import SERVICE_NAME, DatacatalogSettings, load
from skyloom_datacatalog.store.postgres import PostgresCatalog
from skyloom_idl.service import datacatalog_pb2 as service_pb2

__all__ = ["MIGRATIONS", "Datacatalog", "open_datacatalog", "run", "setup"]

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTOR = service_pb2.DESCRIPTOR.services_by_name["DataCatalogService"]


@dataclass(frozen=True)
class Datacatalog:
    """One assembled instance; ``grpc.target`` is dialable once ``service.run()`` started."""

    runtime: ServiceRuntime
    pool: asyncpg.Pool
    catalog: CatalogManager
    reservations: ReservationManager
    grpc: GrpcServer
    gauge: ReservationGauge
    service: Service


def _database_errors(exc: Exception) -> SkyloomError | None:
    """Driver errors that escaped a repository (e.g. a dropped connection) → domain errors."""
    mapped = translate_error(exc)
    return mapped if isinstance(mapped, SkyloomError) else None


@asynccontextmanager
async def open_datacatalog(
    settings: DatacatalogSettings, *, runtime: ServiceRuntime | None = None
) -> AsyncIterator[Datacatalog]:
    """Migrate the schema, open the pool, build the components; close the pool on exit."""
    if settings.postgres.dsn is None:
        raise ConfigError.for_field("postgres.dsn", "the datacatalog needs a Postgres DSN")
    dsn = settings.postgres.dsn.get_secret_value()
    catalog_settings = settings.catalog
    runtime = runtime or ServiceRuntime.from_settings(SERVICE_NAME, settings)
    await migrate(dsn, MIGRATIONS, catalog_settings.schema_name)
    pool = await create_pool(
        dsn,
        min_size=settings.postgres.pool_min_size,
        max_size=settings.postgres.pool_max_size,
        connect_timeout=settings.postgres.connect_timeout_seconds,
        statement_timeout=catalog_settings.statement_timeout_seconds,
        schema=catalog_settings.schema_name,
        application_name="skyloom-datacatalog",
        # The repositories never SET, LISTEN or take session advisory locks on pooled
        # connections, so the per-release reset query is a wasted round trip.
        reset_session=False,
    )
    try:
        repository = PostgresCatalog(pool)
        metrics = CatalogMetrics(runtime.registry)
        catalog = CatalogManager(repository, metrics)
        policy = ReservationPolicy(
            default_heartbeat=catalog_settings.default_heartbeat_seconds,
            max_heartbeat=catalog_settings.max_heartbeat_seconds,
            grace_multiplier=catalog_settings.heartbeat_grace_multiplier,
        )
        reservations = ReservationManager(repository, policy, metrics)
        servicer = DataCatalogServicer(
            catalog, reservations, max_inline_bytes=catalog_settings.max_inline_bytes
        )
        grpc = runtime.grpc_server(
            [bind_service(DESCRIPTOR, servicer)], error_translators=[_database_errors]
        )
        gauge = ReservationGauge(
            metrics.reservations_held,
            repository.count_live_reservations,
            interval=catalog_settings.reservation_gauge_seconds,
        )
        service = runtime.service(grpc, gauge, stop_timeout=settings.grpc.drain_seconds + 5)
        yield Datacatalog(runtime, pool, catalog, reservations, grpc, gauge, service)
    finally:
        await pool.close()


@asynccontextmanager
async def setup(settings: DatacatalogSettings | None = None) -> AsyncIterator[Service]:
    """The datacatalog service, ready to ``run()``; settings default to :func:`load`."""
    settings = settings or load()
    runtime = ServiceRuntime.from_settings(SERVICE_NAME, settings, install_global_tracer=True)
    async with open_datacatalog(settings, runtime=runtime) as app:
        yield app.service


def run(settings: DatacatalogSettings | None = None) -> int:
    """Run until SIGTERM/SIGINT; the process exit code."""
    return run_main(lambda: setup(settings))
