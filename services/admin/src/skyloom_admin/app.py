"""Assembling admin: migrations, pool, NATS, blob stores, managers, gRPC server, relay.

:func:`open_admin` builds everything and yields an :class:`Admin` whose ``service`` runs the
components; :func:`setup` yields just the service (what ``run_main`` and the sandbox want).

The execution plane's background components (event consumer, notification dispatcher,
phase sampler) are started after the gRPC server and the outbox relay and stopped before
them. The outbox relay is shared: every area enqueues through ``ctx.outbox``; do not start
another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats

from skyloom_admin.attributes import AttributeManager, PostgresAttributes, config_layer
from skyloom_admin.authz import guard, method_authorizers
from skyloom_admin.context import AppContext
from skyloom_admin.dataproxy import UploadManager
from skyloom_admin.executions import build_plane
from skyloom_admin.projects import PostgresProjects, ProjectManager
from skyloom_admin.registry import PostgresRegistry, RegistryManager
from skyloom_admin.servicer import DESCRIPTOR, build_servicer
from skyloom_admin.settings import SERVICE_NAME, AdminSettings, load
from skyloom_admin.streams import STREAMS
from skyloom_admin.tokens import PostgresTokenStore, TokenAuthenticator, TokenManager
from skyloom_common.db import create_pool, migrate, translate_error
from skyloom_common.errors import ConfigError, SkyloomError
from skyloom_common.jetstream import ensure_stream
from skyloom_common.lifecycle import Service, run_main
from skyloom_common.outbox import Outbox, OutboxMetrics, OutboxRelay
from skyloom_common.rpc import AllowAuthenticated, AuthPolicy, GrpcServer, bind_service
from skyloom_common.runtime import ServiceRuntime
from skyloom_core import blob

__all__ = ["MIGRATIONS", "Admin", "open_admin", "run", "setup"]

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Admin:
    """One assembled instance; ``grpc.target`` is dialable once ``service.run()`` started."""

    ctx: AppContext
    grpc: GrpcServer
    relay: OutboxRelay
    service: Service


def _database_errors(exc: Exception) -> SkyloomError | None:
    mapped = translate_error(exc)
    return mapped if isinstance(mapped, SkyloomError) else None


def _store(prefix: str | None, settings: AdminSettings) -> blob.BlobStore | None:
    if prefix is None:
        return None
    upload = settings.admin.upload
    secret = upload.file_signing_secret
    return blob.store_for(
        prefix,
        blob.BlobSettings(
            s3=blob.S3Settings(endpoint_url=settings.blob.endpoint_url),
            file=blob.FileSettings(
                signing_secret=secret.get_secret_value().encode() if secret else None,
                signed_url_base=upload.file_signed_url_base,
            ),
        ),
    )


@asynccontextmanager
async def open_admin(
    settings: AdminSettings,
    *,
    runtime: ServiceRuntime | None = None,
    data_store: blob.BlobStore | None = None,
    upload_store: blob.BlobStore | None = None,
) -> AsyncIterator[Admin]:
    """Migrate, connect, build; release everything on exit. ``data_store``/``upload_store``
    replace the stores built from ``blob.prefix`` (tests pass stores with credentials)."""
    if settings.postgres.dsn is None:
        raise ConfigError.for_field("postgres.dsn", "admin needs a Postgres DSN")
    dsn = settings.postgres.dsn.get_secret_value()
    admin = settings.admin
    runtime = runtime or ServiceRuntime.from_settings(SERVICE_NAME, settings)
    await migrate(dsn, MIGRATIONS, admin.schema_name)
    async with AsyncExitStack() as stack:
        pool: asyncpg.Pool = await create_pool(
            dsn,
            min_size=settings.postgres.pool_min_size,
            max_size=settings.postgres.pool_max_size,
            connect_timeout=settings.postgres.connect_timeout_seconds,
            statement_timeout=admin.statement_timeout_seconds,
            schema=admin.schema_name,
            application_name="skyloom-admin",
        )
        stack.push_async_callback(pool.close)
        token = settings.nats.token.get_secret_value() if settings.nats.token else None
        nc = await nats.connect(settings.nats.url, token=token, name="skyloom-admin")
        stack.push_async_callback(nc.close)
        js = nc.jetstream()
        for spec in STREAMS:
            await ensure_stream(js, spec)
        data = data_store or _store(settings.blob.prefix, settings)
        upload_prefix = admin.upload.prefix or (
            f"{settings.blob.prefix}/uploads" if settings.blob.prefix else None
        )
        uploads_store = upload_store or _store(upload_prefix, settings)
        for store in {id(s): s for s in (data, uploads_store) if s is not None}.values():
            stack.push_async_callback(store.aclose)
        outbox = Outbox(admin.schema_name)
        projects = ProjectManager(PostgresProjects(pool), admin.domains)
        tokens_store = PostgresTokenStore(pool)
        ctx = AppContext(
            settings=settings,
            runtime=runtime,
            pool=pool,
            nats=nc,
            js=js,
            outbox=outbox,
            data=data,
            uploads=uploads_store,
            projects=projects,
            registry=RegistryManager(PostgresRegistry(pool, outbox.enqueue), projects),
            attributes=AttributeManager(
                PostgresAttributes(pool), projects, config_layer(admin.defaults)
            ),
            tokens=TokenManager(tokens_store, projects.require_exists),
        )
        uploads = UploadManager(
            uploads_store,
            projects,
            default_expiry=admin.upload.default_expiry_seconds,
            max_expiry=admin.upload.max_expiry_seconds,
        )
        plane = build_plane(ctx)
        servicer = build_servicer(ctx, uploads, plane)
        guarded = guard(servicer, DESCRIPTOR, token_project=ctx.tokens.project_of)
        if settings.auth.mode == "disabled":
            policy = runtime.auth
        else:
            authenticator = TokenAuthenticator(
                tokens_store, settings.auth.static_tokens, header=settings.auth.header
            )
            policy = AuthPolicy(authenticator, AllowAuthenticated(), method_authorizers(DESCRIPTOR))
        grpc = runtime.grpc_server(
            [bind_service(DESCRIPTOR, guarded)], auth=policy, error_translators=[_database_errors]
        )
        relay = OutboxRelay(pool, js, outbox, metrics=OutboxMetrics(runtime.registry))
        service = runtime.service(
            grpc, relay, *plane.components(js), stop_timeout=settings.grpc.drain_seconds + 5
        )
        yield Admin(ctx, grpc, relay, service)


@asynccontextmanager
async def setup(settings: AdminSettings | None = None) -> AsyncIterator[Service]:
    """The admin service, ready to ``run()``; settings default to :func:`load`."""
    settings = settings or load()
    runtime = ServiceRuntime.from_settings(SERVICE_NAME, settings, install_global_tracer=True)
    async with open_admin(settings, runtime=runtime) as app:
        yield app.service


def run(settings: AdminSettings | None = None) -> int:
    """Run until SIGTERM/SIGINT; the process exit code."""
    return run_main(lambda: setup(settings))
