"""Structured logs: JSON lines with trace ids inside a span, a human format, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr

from skyloom_common.config import LoggingSettings
from skyloom_common.logs import configure_logging


@pytest.fixture
def configured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(LoggingSettings(format="json"), "admin", stream=stream)
    yield stream, handler
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_include_trace_ids_inside_a_span(
    configured: tuple[io.StringIO, logging.Handler],
) -> None:
    stream, _ = configured
    tracer = TracerProvider().get_tracer("test")
    log = logging.getLogger("skyloom_admin.manager")
    log.info("outside")
    with tracer.start_as_current_span("CreateExecution") as span:
        log.info("inside %s", "span", extra={"execution": "p/d/x1"})
    outside, inside = _lines(stream)

    assert "trace_id" not in outside
    assert inside["msg"] == "inside span"
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert inside["service"] == "admin"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "skyloom_admin.manager"
    assert inside["execution"] == "p/d/x1"
    assert str(inside["ts"]).endswith("+00:00")


def test_exceptions_are_logged_as_one_json_line(
    configured: tuple[io.StringIO, logging.Handler],
) -> None:
    stream, _ = configured
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        logging.getLogger("x").exception("failed")
    [line] = _lines(stream)
    assert "ValueError: broken" in str(line["exc"])


def test_secret_values_render_masked(configured: tuple[io.StringIO, logging.Handler]) -> None:
    stream, _ = configured
    canary = "canary-secret-value-0123456789"
    logging.getLogger("x").warning("token %s", SecretStr(canary), extra={"dsn": SecretStr(canary)})
    assert canary not in stream.getvalue()
    assert "**********" in stream.getvalue()


def test_reconfiguring_replaces_only_our_handler(
    configured: tuple[io.StringIO, logging.Handler],
) -> None:
    _, first = configured
    root = logging.getLogger()
    foreign = logging.NullHandler()
    root.addHandler(foreign)
    text_stream = io.StringIO()
    second = configure_logging(
        LoggingSettings(format="text", level="DEBUG"), "admin", stream=text_stream
    )
    try:
        assert first not in root.handlers
        assert foreign in root.handlers
        assert root.level == logging.DEBUG
        with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
            logging.getLogger("skyloom_admin").debug("human readable")
        line = text_stream.getvalue()
        assert "DEBUG" in line
        assert "skyloom_admin" in line
        assert "human readable" in line
        assert f"[trace={format(span.get_span_context().trace_id, '032x')}]" in line
        assert not line.startswith("{")
    finally:
        root.removeHandler(foreign)
        root.removeHandler(second)
