"""OpenTelemetry tracer provider for one service, plus W3C trace-context helpers.

:func:`create_tracer_provider` builds a provider tagged with ``service.name``. The exporter is
chosen by ``TracingSettings.exporter`` (``none`` or ``console``) or passed in directly — any
``SpanExporter`` works, e.g. an OTLP exporter when that package is installed, or
``InMemorySpanExporter`` in tests. The provider is *not* installed globally here: pass it to the
components that trace (the gRPC server takes it), and let ``__main__`` decide whether to call
``opentelemetry.trace.set_tracer_provider`` for third-party libraries.

:func:`extract_context` / :func:`inject_context` move W3C ``traceparent``/``tracestate``
between an OpenTelemetry context and string key/value carriers (gRPC metadata, NATS headers).
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from skyloom_common.config import TracingSettings

__all__ = ["create_tracer_provider", "exports_spans", "extract_context", "inject_context"]

_PROPAGATOR = TraceContextTextMapPropagator()


def create_tracer_provider(
    settings: TracingSettings,
    service_name: str,
    *,
    exporter: SpanExporter | None = None,
    batch: bool = True,
) -> TracerProvider:
    """A provider for ``service_name`` sampling ``settings.sample_ratio`` of new root traces
    (a sampled parent is always honoured).

    ``exporter`` overrides ``settings.exporter``. ``batch=False`` exports each span as it ends
    (what tests want); batching is the production default. Call ``provider.shutdown()`` at
    exit to flush.
    """
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    chosen = exporter
    if chosen is None and settings.exporter == "console":
        chosen = ConsoleSpanExporter(service_name=service_name)
    if chosen is not None:
        processor: SpanProcessor = (
            BatchSpanProcessor(chosen) if batch else SimpleSpanProcessor(chosen)
        )
        provider.add_span_processor(processor)
    return provider


def extract_context(carrier: Iterable[tuple[str, str | bytes]]) -> Context:
    """The remote parent context carried in ``carrier`` (empty context when there is none).

    Keys are matched case-insensitively; binary values are ignored.
    """
    headers: dict[str, str] = {}
    for key, value in carrier:
        if isinstance(value, str):
            headers.setdefault(key.lower(), value)
    return _PROPAGATOR.extract(headers)


def inject_context(carrier: MutableMapping[str, str], context: Context | None = None) -> None:
    """Write the current (or given) span's ``traceparent``/``tracestate`` into ``carrier``."""
    _PROPAGATOR.inject(carrier, context=context)


def exports_spans(provider: trace.TracerProvider) -> bool:
    """Whether a span started on ``provider`` can reach an exporter right now.

    ``False`` for the no-op provider and for an SDK provider without span processors (tracing
    exporter ``none``): recording such spans is wasted work. Unknown providers count as
    exporting. Cheap enough to ask per call, so a processor added later takes effect.
    """
    if isinstance(provider, trace.NoOpTracerProvider):
        return False
    # The SDK keeps its processors privately; read them defensively.
    active = getattr(provider, "_active_span_processor", None)
    processors = getattr(active, "_span_processors", None)
    return processors is None or len(processors) > 0
