"""Tracer provider setup and W3C trace-context propagation."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from skyloom_common.config import TracingSettings
from skyloom_common.tracing import create_tracer_provider, extract_context, inject_context


def test_provider_names_the_service_and_exports_to_the_given_exporter() -> None:
    exporter = InMemorySpanExporter()
    provider = create_tracer_provider(
        TracingSettings(), "propeller", exporter=exporter, batch=False
    )
    with provider.get_tracer("t").start_as_current_span("round"):
        pass
    [span] = exporter.get_finished_spans()
    assert span.name == "round"
    assert span.resource.attributes["service.name"] == "propeller"
    provider.shutdown()


def test_sample_ratio_zero_drops_new_root_traces_but_honours_sampled_parents() -> None:
    exporter = InMemorySpanExporter()
    settings = TracingSettings(sample_ratio=0.0)
    provider = create_tracer_provider(settings, "admin", exporter=exporter, batch=False)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root"):
        pass
    assert exporter.get_finished_spans() == ()
    parent = extract_context(
        [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    )
    with tracer.start_as_current_span("child", context=parent):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["child"]


def test_inject_then_extract_round_trips_the_current_span() -> None:
    provider = create_tracer_provider(TracingSettings(), "scheduler", batch=False)
    with provider.get_tracer("t").start_as_current_span("publish") as span:
        headers: dict[str, str] = {}
        inject_context(headers)
    assert headers["traceparent"].startswith("00-")
    # Header names are matched case-insensitively; binary values are ignored.
    ctx = extract_context([("TraceParent", headers["traceparent"]), ("x-bin", b"\x00")])
    remote = trace.get_current_span(ctx).get_span_context()
    assert remote.trace_id == span.get_span_context().trace_id
    assert remote.span_id == span.get_span_context().span_id
    assert remote.is_remote


def test_garbage_traceparent_starts_a_fresh_trace() -> None:
    ctx = extract_context([("traceparent", "not-a-trace")])
    assert not trace.get_current_span(ctx).get_span_context().is_valid
