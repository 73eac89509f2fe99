"""The grpc.aio server component every Skyloom service runs.

``GrpcServer`` is a long-running component (see :mod:`skyloom_common.lifecycle`)::

    async with GrpcServer([bind_service(desc, impl)], settings=s.grpc, auth=policy) as server:
        print(server.port)          # bound on enter; port 0 picks a free one
        await server.run()          # returns once shutdown() finished draining

Every server also has ``grpc.health.v1.Health`` (SERVING once started, NOT_SERVING from the
moment a drain starts) and server reflection (v1alpha) listing the registered services, health
and reflection. Those two are outside the interceptor chain: no auth, no metrics, no tracing.

Interceptor order, outermost first — each sees what the inner ones did:

1. tracing   — span per RPC, parent from W3C ``traceparent`` metadata; current for all below,
               so every log line (including the INTERNAL error-id line) carries the trace id;
2. metrics   — started/handled{grpc_code}/latency/in-flight; sees the final mapped code;
3. errors    — the one place exceptions become statuses (:mod:`skyloom_common.rpc.status`);
4. auth      — authenticate + per-method authorize *before* the request bytes are parsed;
5. extra interceptors given to the server, in order (they see ``call.principal``);
6. request parse (raw bytes → message; ``DecodeError`` → INVALID_ARGUMENT), then the handler.

Drain (``shutdown()``, idempotent, safe to call concurrently): health flips to NOT_SERVING and
open health watches are closed; RPCs are still accepted for ``drain_notice_seconds`` so load
balancers can notice; then the listener closes and in-flight RPCs get ``drain_seconds`` to
finish before they are cancelled. Leaving the ``async with`` block because of cancellation skips
the drain and cancels in-flight RPCs at once. Oversized requests are refused by grpc itself with
RESOURCE_EXHAUSTED (``max_message_bytes``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import grpc
from grpc_health.v1 import health as grpc_health
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from skyloom_common.config import GrpcSettings
from skyloom_common.rpc.adapter import ServiceBinding, generic_handler
from skyloom_common.rpc.auth import AuthInterceptor, AuthPolicy
from skyloom_common.rpc.call import ServerInterceptor
from skyloom_common.rpc.health import HealthService
from skyloom_common.rpc.observe import MetricsInterceptor, RpcMetrics, TracingInterceptor
from skyloom_common.rpc.status import ErrorMappingInterceptor, ErrorTranslator

__all__ = ["GrpcServer"]

_log = logging.getLogger(__name__)
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})


def _hostport(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


class GrpcServer:
    """A grpc.aio server for ``services`` with the standard interceptor chain.

    ``metrics`` defaults to collectors on a fresh private registry (so several servers can live
    in one process); ``tracer_provider`` defaults to the global one (a no-op unless installed).
    Construction validates everything (unique services, one descriptor pool, authorizer keys
    naming real methods); nothing binds until ``__aenter__``.
    """

    def __init__(
        self,
        services: Sequence[ServiceBinding],
        *,
        settings: GrpcSettings,
        auth: AuthPolicy,
        metrics: RpcMetrics | None = None,
        tracer_provider: TracerProvider | None = None,
        interceptors: Sequence[ServerInterceptor] = (),
        error_translators: Sequence[ErrorTranslator] = (),
    ) -> None:
        names = [b.name for b in services]
        if len(set(names)) != len(names):
            raise ValueError(f"a service is registered twice: {sorted(names)}")
        pools = {id(b.descriptor.file.pool) for b in services}
        if len(pools) > 1:
            raise ValueError("all services must come from one protobuf descriptor pool")
        paths = {bm.info.path for b in services for bm in b.methods.values()}
        unknown = sorted(set(auth.method_authorizers) - paths)
        if unknown:
            raise ValueError(f"authorizers configured for unregistered methods: {unknown}")
        self._services = tuple(services)
        self._settings = settings
        self._metrics = metrics or RpcMetrics(CollectorRegistry(auto_describe=True))
        self._chain: tuple[ServerInterceptor, ...] = (
            TracingInterceptor(tracer_provider or trace.get_tracer_provider()),
            MetricsInterceptor(self._metrics),
            ErrorMappingInterceptor(error_translators),
            AuthInterceptor(auth),
            *interceptors,
        )
        self._health = HealthService(names)
        self._server: grpc.aio.Server | None = None
        self._port: int | None = None
        self._drain_task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (after ``__aenter__``)."""
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def target(self) -> str:
        """``host:port`` a local client can dial (wildcard hosts become loopback)."""
        host = self._settings.host
        return _hostport("127.0.0.1" if host in _WILDCARD_HOSTS else host, self.port)

    @property
    def health(self) -> HealthService:
        """The health servicer, e.g. to report NOT_SERVING while a dependency is down."""
        return self._health

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self._services)

    async def __aenter__(self) -> Self:
        if self._server is not None:
            raise RuntimeError("GrpcServer can be started only once")
        size = self._settings.max_message_bytes
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", size),
                ("grpc.max_send_message_length", size),
                # Without this a second server on the same fixed port would bind silently.
                ("grpc.so_reuseport", 0),
            ],
            maximum_concurrent_rpcs=self._settings.max_concurrent_rpcs,
        )
        self._server = server
        server.add_generic_rpc_handlers([generic_handler(b, self._chain) for b in self._services])
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflected = [*self.service_names, grpc_health.SERVICE_NAME, reflection.SERVICE_NAME]
        pool = self._services[0].descriptor.file.pool if self._services else None
        reflection.enable_server_reflection(reflected, server, pool=pool)
        address = _hostport(self._settings.host, self._settings.port)
        try:
            self._port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise OSError(f"cannot bind gRPC server to {address}: {exc}") from exc
        await server.start()
        await self._health.set_all(serving=True)
        _log.info(
            "gRPC server listening on %s",
            _hostport(self._settings.host, self._port),
            extra={"grpc_services": list(self.service_names)},
        )
        return self

    async def run(self) -> None:
        """Wait until the server has stopped (after :meth:`shutdown`)."""
        if self._server is None:
            raise RuntimeError("enter the server (async with) before run()")
        await self._server.wait_for_termination()

    async def shutdown(self) -> None:
        """Drain and stop (see module docs). Idempotent; concurrent callers share one drain."""
        if self._server is None:
            return
        if self._drain_task is None:
            self._drain_task = asyncio.ensure_future(self._drain(self._server))
        await asyncio.shield(self._drain_task)

    async def _drain(self, server: grpc.aio.Server) -> None:
        _log.info("gRPC server draining")
        await self._health.enter_graceful_shutdown()
        if self._settings.drain_notice_seconds > 0:
            await asyncio.sleep(self._settings.drain_notice_seconds)
        await server.stop(grace=self._settings.drain_seconds)
        _log.info("gRPC server stopped")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if (
            self._server is not None
            and exc_type is not None
            and issubclass(exc_type, asyncio.CancelledError)
        ):
            # Cancelled while running (a second SIGTERM): stop now, cancelling in-flight RPCs.
            await self._server.stop(None)
        await self.shutdown()
