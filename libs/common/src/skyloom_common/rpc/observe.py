"""Tracing and metrics interceptors: they observe every RPC and never change its outcome.

Both sit outside error mapping, so the exceptions they see are :class:`RpcAbort` (a mapped
status), ``CancelledError`` (client gone or deadline passed) or, only if the runtime itself is
broken, something else (counted as ``UNKNOWN``).

Metric names follow go-grpc-prometheus so stock Grafana dashboards work:

* ``grpc_server_started_total{grpc_type,grpc_service,grpc_method}``
* ``grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}``
* ``grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}`` (histogram)
* ``grpc_server_in_flight{grpc_type,grpc_service,grpc_method}`` (gauge)

Both run on every call, so they are plain classes (no generator-based context managers), keep
per-method state (span name and attributes, labelled metric children) in a dict built on a
method's first call, and read ``traceparent`` only when the caller sent one. When the tracer
provider exports nothing (exporter ``none``), no span is recorded: the call runs under a
non-recording span with fresh ids (in the caller's trace, if any), so logs and outgoing calls
still carry trace and span ids.
"""

from __future__ import annotations

import asyncio
import random
import time
from types import TracebackType

import grpc
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import (
    INVALID_SPAN_ID,
    INVALID_TRACE_ID,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TracerProvider,
    get_current_span,
    set_span_in_context,
)
from opentelemetry.util.types import Attributes
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from skyloom_common.rpc.call import MethodInfo, RpcCall
from skyloom_common.rpc.status import RpcAbort
from skyloom_common.tracing import exports_spans, extract_context

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


_EMPTY_CONTEXT = Context()
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def _remote_parent(call: RpcCall) -> Context:
    """The caller's trace context, parsed only if it sent a ``traceparent``."""
    if call.metadata.get("traceparent") is None:
        return _EMPTY_CONTEXT
    return extract_context(call.metadata)


def _unexported_span(parent: Context) -> Span:
    """A non-recording span standing in for the server span: the caller's trace (or a new
    one) with a fresh span id, so log lines and outgoing calls carry ids as usual."""
    remote = get_current_span(parent).get_span_context()
    span_id = INVALID_SPAN_ID
    while span_id == INVALID_SPAN_ID:
        span_id = random.getrandbits(64)
    if remote.is_valid:
        trace_id, flags = remote.trace_id, remote.trace_flags
    else:
        trace_id, flags = INVALID_TRACE_ID, _SAMPLED
        while trace_id == INVALID_TRACE_ID:
            trace_id = random.getrandbits(128)
    return NonRecordingSpan(SpanContext(trace_id, span_id, is_remote=False, trace_flags=flags))


class _TracedCall:
    __slots__ = ("_call", "_interceptor", "_span", "_token")

    def __init__(self, interceptor: TracingInterceptor, call: RpcCall) -> None:
        self._interceptor = interceptor
        self._call = call

    async def __aenter__(self) -> None:
        interceptor, call = self._interceptor, self._call
        parent = _remote_parent(call)
        if exports_spans(interceptor.provider):
            name, attributes = interceptor.naming(call.method)
            span = interceptor.tracer.start_span(
                name,
                context=parent,
                kind=SpanKind.SERVER,
                attributes=attributes,
                record_exception=False,
                set_status_on_exception=False,
            )
        else:
            span = _unexported_span(parent)
        self._span = span
        self._token = otel_context.attach(set_span_in_context(span))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        try:
            if span.is_recording():
                code = outcome_code(exc)
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                if code in _SERVER_ERROR_CODES:
                    description = exc.message if isinstance(exc, RpcAbort) else code.name
                    span.set_status(Status(StatusCode.ERROR, description))
                span.end()
        finally:
            otel_context.detach(self._token)


class TracingInterceptor:
    """One SERVER span per RPC, child of the caller's W3C ``traceparent`` when present.

    The span is current while the handler runs, so logs and outgoing calls carry its ids.
    """

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("skyloom_common.rpc")
        self._naming: dict[MethodInfo, tuple[str, Attributes]] = {}

    def naming(self, method: MethodInfo) -> tuple[str, Attributes]:
        """The span name and constant attributes of ``method``'s spans (built once)."""
        found = self._naming.get(method)
        if found is None:
            attributes = {
                "rpc.system": "grpc",
                "rpc.service": method.service,
                "rpc.method": method.name,
            }
            found = self._naming[method] = (method.path.lstrip("/"), attributes)
        return found

    def intercept(self, call: RpcCall) -> _TracedCall:
        return _TracedCall(self, call)


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


class _MethodMetrics:
    """One method's labelled children, looked up once instead of on every call."""

    __slots__ = ("_handled", "_labels", "_metrics", "in_flight", "latency", "started")

    def __init__(self, metrics: RpcMetrics, method: MethodInfo) -> None:
        self._metrics = metrics
        self._labels = (method.kind.value, method.service, method.name)
        self.started = metrics.started.labels(*self._labels)
        self.in_flight = metrics.in_flight.labels(*self._labels)
        self.latency = metrics.latency.labels(*self._labels)
        self._handled: dict[grpc.StatusCode, Counter] = {}

    def handled(self, code: grpc.StatusCode) -> Counter:
        child = self._handled.get(code)
        if child is None:
            child = self._handled[code] = self._metrics.handled.labels(*self._labels, code.name)
        return child


class _MeasuredCall:
    __slots__ = ("_m", "_start")

    def __init__(self, m: _MethodMetrics) -> None:
        self._m = m

    async def __aenter__(self) -> None:
        self._m.started.inc()
        self._m.in_flight.inc()
        self._start = time.perf_counter()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        m = self._m
        m.in_flight.dec()
        m.latency.observe(time.perf_counter() - self._start)
        m.handled(outcome_code(exc)).inc()


class MetricsInterceptor:
    """Counts, times and tracks in-flight RPCs on :class:`RpcMetrics`."""

    def __init__(self, metrics: RpcMetrics) -> None:
        self._m = metrics
        self._by_method: dict[MethodInfo, _MethodMetrics] = {}

    def intercept(self, call: RpcCall) -> _MeasuredCall:
        m = self._by_method.get(call.method)
        if m is None:
            m = self._by_method[call.method] = _MethodMetrics(self._m, call.method)
        return _MeasuredCall(m)
