"""Structured logging on stdlib ``logging``: one JSON object per line, or a plain human format.

Every record gets ``trace_id`` / ``span_id`` from the OpenTelemetry span current when the record
was *created* (a filter stamps them, so queue handlers and late formatting keep the right ids).
Fields passed with ``extra={...}`` appear as top-level JSON keys. Values that are not JSON types
are rendered with ``str()`` — which for ``pydantic.SecretStr`` is ``**********``, so a secret held
as ``SecretStr`` never reaches a log line.

JSON keys: ``ts`` (UTC, ISO 8601, ms), ``level``, ``logger``, ``msg``, ``service``, ``trace_id``,
``span_id`` (omitted outside a span), ``exc`` (formatted traceback, only when logged with one),
then any extras.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from opentelemetry import trace

from skyloom_common.config import LoggingSettings

__all__ = ["JsonFormatter", "TextFormatter", "TraceContextFilter", "configure_logging"]

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "trace_id", "span_id", "service", "trace"}
)
_HANDLER_MARK = "_skyloom_handler"


class TraceContextFilter(logging.Filter):
    """Stamps ``trace_id``/``span_id`` (hex, or ``None``) and ``service`` on every record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            record.trace_id = format(ctx.trace_id, "032x")
            record.span_id = format(ctx.span_id, "016x")
        else:
            record.trace_id = None
            record.span_id = None
        record.service = self._service
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record; see the module docstring for the keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "service": getattr(record, "service", None),
        }
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            entry["trace_id"] = trace_id
            entry["span_id"] = getattr(record, "span_id", None)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS.mmm LEVEL logger [trace=…] message`` for people reading a sandbox terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(trace)s %(message)s", "%H:%M:%S")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{super().formatTime(record, datefmt)}.{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        trace_id = getattr(record, "trace_id", None)
        record.trace = f" [trace={trace_id}]" if trace_id else ""
        return super().format(record)


def configure_logging(
    settings: LoggingSettings, service: str, *, stream: TextIO | None = None
) -> logging.Handler:
    """Route the root logger to ``stream`` (default stderr) in the configured format.

    Idempotent: a handler installed by an earlier call is replaced, handlers installed by
    anyone else (pytest's ``caplog``) are left alone. Returns the installed handler.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(TraceContextFilter(service))
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(settings.level)
    return handler
