"""Metrics scraped over HTTP and traces/logs correlated, through the real server."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import urllib.request

import grpc
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client.parser import text_string_to_metric_families

from skyloom_common.config import AuthSettings, GrpcSettings, MetricsSettings, ServiceSettings
from skyloom_common.logs import JsonFormatter, TraceContextFilter
from skyloom_common.rpc import bind_service
from skyloom_common.runtime import ServiceRuntime

from .conftest import ECHO, OTHER, PACKAGE, EchoClient, EchoImpl, EchoRequest, OtherImpl

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


def _settings() -> ServiceSettings:
    return ServiceSettings(
        grpc=GrpcSettings(port=0),
        metrics=MetricsSettings(port=0),
        auth=AuthSettings(mode="disabled"),
    )


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _labels(method: str, code: str | None = None) -> tuple[tuple[str, str], ...]:
    labels = {"grpc_method": method, "grpc_service": f"{PACKAGE}.Echo", "grpc_type": "unary_unary"}
    if code is not None:
        labels["grpc_code"] = code
    return tuple(sorted(labels.items()))


async def test_metrics_endpoint_counts_rpcs_by_status_code() -> None:
    runtime = ServiceRuntime.from_settings("echo", _settings(), configure_logs=False)
    metrics_server = runtime.metrics_server()
    grpc_server = runtime.grpc_server(
        [bind_service(ECHO, EchoImpl()), bind_service(OTHER, OtherImpl())]
    )
    async with metrics_server, grpc_server, grpc.aio.insecure_channel(grpc_server.target) as ch:
        say = EchoClient(ch).say()
        for _ in range(3):
            await say(EchoRequest(text="ok"), timeout=5)
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError):
                await say(EchoRequest(fail="invalid"), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError):
            await EchoClient(ch).raw_say()(b"\xff", timeout=5)

        samples = await asyncio.to_thread(_scrape, metrics_server.port)

    assert samples[("grpc_server_handled_total", _labels("Say", "OK"))] == 3
    assert samples[("grpc_server_handled_total", _labels("Say", "INVALID_ARGUMENT"))] == 3
    assert samples[("grpc_server_started_total", _labels("Say"))] == 6
    assert samples[("grpc_server_handling_seconds_count", _labels("Say"))] == 6
    assert samples[("grpc_server_in_flight", _labels("Say"))] == 0
    # Process metrics come with the per-service registry.
    assert ("process_resident_memory_bytes", ()) in samples


async def test_two_services_in_one_process_keep_separate_metrics() -> None:
    a = ServiceRuntime.from_settings("a", _settings(), configure_logs=False)
    b = ServiceRuntime.from_settings("b", _settings(), configure_logs=False)
    server_a = a.grpc_server([bind_service(ECHO, EchoImpl())])
    server_b = b.grpc_server([bind_service(ECHO, EchoImpl())])
    async with (
        a.metrics_server() as metrics_a,
        b.metrics_server() as metrics_b,
        server_a,
        server_b,
        grpc.aio.insecure_channel(server_a.target) as ch,
    ):
        await EchoClient(ch).say()(EchoRequest(text="only a"), timeout=5)
        samples_a = await asyncio.to_thread(_scrape, metrics_a.port)
        samples_b = await asyncio.to_thread(_scrape, metrics_b.port)
    assert samples_a[("grpc_server_handled_total", _labels("Say", "OK"))] == 1
    assert ("grpc_server_handled_total", _labels("Say", "OK")) not in samples_b


async def test_rpc_span_continues_caller_trace_and_logs_carry_its_ids() -> None:
    exporter = InMemorySpanExporter()
    runtime = ServiceRuntime.from_settings(
        "echo", _settings(), configure_logs=False, span_exporter=exporter
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TraceContextFilter("echo"))
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("skyloom_test.echo"), logging.getLogger("skyloom_common.rpc")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    server = runtime.grpc_server([bind_service(ECHO, EchoImpl())])
    try:
        async with server, grpc.aio.insecure_channel(server.target) as ch:
            metadata = (("traceparent", f"00-{TRACE_ID}-{PARENT_SPAN}-01"),)
            await EchoClient(ch).say()(EchoRequest(text="traced"), metadata=metadata, timeout=5)
            with pytest.raises(grpc.aio.AioRpcError):
                await EchoClient(ch).say()(EchoRequest(fail="boom"), timeout=5)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)

    ok_span, failed_span = exporter.get_finished_spans()
    assert ok_span.name == f"{PACKAGE}.Echo/Say"
    assert ok_span.kind == SpanKind.SERVER
    assert format(ok_span.context.trace_id, "032x") == TRACE_ID
    assert ok_span.parent is not None
    assert format(ok_span.parent.span_id, "016x") == PARENT_SPAN
    assert ok_span.attributes is not None
    assert ok_span.attributes["rpc.grpc.status_code"] == 0
    assert ok_span.resource.attributes["service.name"] == "echo"
    assert failed_span.status.status_code == StatusCode.ERROR
    assert failed_span.parent is None  # no traceparent sent: a new root trace

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    said = next(line for line in lines if line["msg"] == "say traced")
    assert said["trace_id"] == TRACE_ID
    assert said["span_id"] == format(ok_span.context.span_id, "016x")
    assert said["service"] == "echo"
    # The INTERNAL error-id line is logged inside the RPC's span, with the traceback.
    internal = next(line for line in lines if "error_id" in line)
    assert internal["trace_id"] == format(failed_span.context.trace_id, "032x")
    assert "secret internal detail" in internal["exc"]


async def test_without_an_exporter_logs_still_carry_trace_ids() -> None:
    # Exporter "none": nothing is recorded, but the caller's trace id (or a fresh one) and a
    # span id of this call's own still reach the handler's log lines.
    runtime = ServiceRuntime.from_settings("echo", _settings(), configure_logs=False)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TraceContextFilter("echo"))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("skyloom_test.echo")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    server = runtime.grpc_server([bind_service(ECHO, EchoImpl())])
    try:
        async with server, grpc.aio.insecure_channel(server.target) as ch:
            metadata = (("traceparent", f"00-{TRACE_ID}-{PARENT_SPAN}-01"),)
            await EchoClient(ch).say()(EchoRequest(text="child"), metadata=metadata, timeout=5)
            await EchoClient(ch).say()(EchoRequest(text="root"), timeout=5)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    lines = {line["msg"]: line for line in map(json.loads, stream.getvalue().splitlines())}
    child, root = lines["say child"], lines["say root"]
    assert child["trace_id"] == TRACE_ID
    assert len(child["span_id"]) == 16
    assert child["span_id"] != PARENT_SPAN
    assert len(root["trace_id"]) == 32
    assert root["trace_id"] != TRACE_ID
    assert len(root["span_id"]) == 16
