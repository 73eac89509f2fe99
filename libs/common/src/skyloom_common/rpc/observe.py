"""Tracing and metrics interceptors: they observe every RPC and never change its outcome.

Both sit outside error mapping, so the exceptions they see are :class:`RpcAbort` (a mapped
status), ``CancelledError`` (client gone or deadline passed) or, only if the runtime itself is
broken, something else (counted as ``UNKNOWN``).

Metric names follow go-grpc-prometheus so stock Grafana dashboards work:

* ``grpc_server_started_total{grpc_type,grpc_service,grpc_method}``
* ``grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}``
* ``grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}`` (histogram)
* ``grpc_server_in_flight{grpc_type,grpc_service,grpc_method}`` (gauge)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from skyloom_common.rpc.call import RpcCall
from skyloom_common.rpc.status import RpcAbort
from skyloom_common.tracing import extract_context

__all__ = ["MetricsInterceptor", "RpcMetrics", "TracingInterceptor", "outcome_code"]

# OpenTelemetry semantic conventions: server spans are errors only for these codes.
_SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def outcome_code(exc: BaseException | None) -> grpc.StatusCode:
    """The status code a finished RPC reported, judged from what left the inner chain."""
    if exc is None:
        return grpc.StatusCode.OK
    if isinstance(exc, RpcAbort):
        return exc.code
    if isinstance(exc, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


class TracingInterceptor:
    """One SERVER span per RPC, child of the caller's W3C ``traceparent`` when present.

    The span is current while the handler runs, so logs and outgoing calls carry its ids.
    """

    def __init__(self, provider: TracerProvider) -> None:
        self._tracer = provider.get_tracer("skyloom_common.rpc")

    @asynccontextmanager
    async def intercept(self, call: RpcCall) -> AsyncIterator[None]:
        parent = extract_context(call.metadata)
        with self._tracer.start_as_current_span(
            call.method.path.lstrip("/"),
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": call.method.service,
                "rpc.method": call.method.name,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            error: BaseException | None = None
            try:
                yield
            except BaseException as exc:
                error = exc
                raise
            finally:
                code = outcome_code(error)
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                if code in _SERVER_ERROR_CODES:
                    description = error.message if isinstance(error, RpcAbort) else code.name
                    span.set_status(Status(StatusCode.ERROR, description))


class RpcMetrics:
    """The per-RPC Prometheus collectors, registered on one (per-service) registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        base = ("grpc_type", "grpc_service", "grpc_method")
        self.started = Counter(
            "grpc_server_started", "RPCs started on the server.", base, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled",
            "RPCs completed on the server, by status code.",
            (*base, "grpc_code"),
            registry=registry,
        )
        self.latency = Histogram(
            "grpc_server_handling_seconds",
            "Time from request received to final status, in seconds.",
            base,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "grpc_server_in_flight", "RPCs currently being handled.", base, registry=registry
        )


class MetricsInterceptor:
    """Counts, times and tracks in-flight RPCs on :class:`RpcMetrics`."""

    def __init__(self, metrics: RpcMetrics) -> None:
        self._m = metrics

    @asynccontextmanager
    async def intercept(self, call: RpcCall) -> AsyncIterator[None]:
        labels = (call.method.kind.value, call.method.service, call.method.name)
        self._m.started.labels(*labels).inc()
        in_flight = self._m.in_flight.labels(*labels)
        in_flight.inc()
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            in_flight.dec()
            self._m.latency.labels(*labels).observe(time.perf_counter() - start)
            self._m.handled.labels(*labels, outcome_code(error).name).inc()
