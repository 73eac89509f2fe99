"""One object that turns :class:`ServiceSettings` into the standard runtime pieces.

``ServiceRuntime.from_settings(name, settings)`` configures logging, builds the tracer
provider, a private Prometheus registry with the per-RPC collectors, and the auth policy the
config names. Its factories then build components wired to those pieces::

    runtime = ServiceRuntime.from_settings("datacatalog", settings)
    server = runtime.grpc_server([bind_service(descriptor, servicer)])
    service = runtime.service(server, consumer)   # metrics listener added first

Nothing here touches process-global state except logging (and the global tracer provider if
``install_global_tracer=True``, which only a ``__main__`` should ask for).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry

from skyloom_common.config import ServiceSettings
from skyloom_common.lifecycle import Component, Service
from skyloom_common.logs import configure_logging
from skyloom_common.metrics import MetricsServer, create_registry
from skyloom_common.rpc.adapter import ServiceBinding
from skyloom_common.rpc.auth import AuthPolicy, auth_policy_from_settings
from skyloom_common.rpc.call import ServerInterceptor
from skyloom_common.rpc.observe import RpcMetrics
from skyloom_common.rpc.server import GrpcServer
from skyloom_common.rpc.status import ErrorTranslator
from skyloom_common.tracing import create_tracer_provider

__all__ = ["ServiceRuntime"]


@dataclass(frozen=True)
class ServiceRuntime:
    """Shared runtime pieces of one service instance. Build with :meth:`from_settings`."""

    name: str
    settings: ServiceSettings
    registry: CollectorRegistry
    rpc_metrics: RpcMetrics
    tracer_provider: TracerProvider
    auth: AuthPolicy

    @classmethod
    def from_settings(
        cls,
        name: str,
        settings: ServiceSettings,
        *,
        configure_logs: bool = True,
        span_exporter: SpanExporter | None = None,
        install_global_tracer: bool = False,
    ) -> ServiceRuntime:
        """Build the pieces. ``span_exporter`` overrides ``settings.tracing.exporter``
        (spans are then exported synchronously, which is what tests want)."""
        if configure_logs:
            configure_logging(settings.logging, name)
        provider = create_tracer_provider(
            settings.tracing, name, exporter=span_exporter, batch=span_exporter is None
        )
        if install_global_tracer:
            trace.set_tracer_provider(provider)
        registry = create_registry()
        return cls(
            name=name,
            settings=settings,
            registry=registry,
            rpc_metrics=RpcMetrics(registry),
            tracer_provider=provider,
            auth=auth_policy_from_settings(settings.auth),
        )

    def grpc_server(
        self,
        services: Sequence[ServiceBinding],
        *,
        auth: AuthPolicy | None = None,
        interceptors: Sequence[ServerInterceptor] = (),
        error_translators: Sequence[ErrorTranslator] = (),
    ) -> GrpcServer:
        """A gRPC server on ``settings.grpc``; ``auth`` overrides the policy from settings
        (e.g. admin's token-store authenticator with per-method authorizers)."""
        return GrpcServer(
            services,
            settings=self.settings.grpc,
            auth=auth or self.auth,
            metrics=self.rpc_metrics,
            tracer_provider=self.tracer_provider,
            interceptors=interceptors,
            error_translators=error_translators,
        )

    def metrics_server(self, *, health_check: Callable[[], bool] | None = None) -> MetricsServer:
        """The ``/metrics`` + ``/healthz`` listener on ``settings.metrics``."""
        return MetricsServer(
            self.registry,
            host=self.settings.metrics.host,
            port=self.settings.metrics.port,
            health_check=health_check,
        )

    def service(self, *components: Component, stop_timeout: float = 60.0) -> Service:
        """A :class:`Service` of ``components``, preceded by the metrics listener when
        ``settings.metrics.enabled``; flushes the tracer provider when it stops."""
        listed: list[Component] = []
        if self.settings.metrics.enabled:
            listed.append(self.metrics_server())
        listed.extend(components)
        return Service(
            self.name,
            listed,
            stop_timeout=stop_timeout,
            on_stopped=[self.tracer_provider.shutdown],
        )
