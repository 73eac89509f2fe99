"""Prometheus exposition over a tiny asyncio HTTP listener: ``/metrics`` and ``/healthz``.

No web framework: the listener speaks just enough HTTP/1.1 for Prometheus and kubelet probes
(``GET``/``HEAD``, one request per connection, 8 KiB header limit, 5 s to send it). Each service
instance owns a :class:`~prometheus_client.CollectorRegistry` (see :func:`create_registry`)
instead of the process-global default, so tests can run several services in one process.

* ``GET /metrics`` — text exposition format of the registry.
* ``GET /healthz`` — ``200 ok`` while ``health_check()`` is true (default: always), else ``503``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Self

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

__all__ = ["MetricsServer", "create_registry"]

_log = logging.getLogger(__name__)
_HEADER_LIMIT = 8192
_READ_TIMEOUT = 5.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


def create_registry(*, process_metrics: bool = True) -> CollectorRegistry:
    """A fresh registry, with the process/platform/GC collectors unless told otherwise."""
    registry = CollectorRegistry(auto_describe=True)
    if process_metrics:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry


class MetricsServer:
    """Long-running component serving ``registry`` on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        health_check: Callable[[], bool] | None = None,
    ) -> None:
        self._registry = registry
        self._host = host
        self._requested_port = port
        self._health_check = health_check
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._stopped = asyncio.Event()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the metrics server is not started")
        return self._port

    async def __aenter__(self) -> Self:
        if self._server is not None:
            raise RuntimeError("MetricsServer can be started only once")
        self._server = await asyncio.start_server(
            self._handle, self._host, self._requested_port, limit=_HEADER_LIMIT
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        _log.info("metrics listening on %s:%d", self._host, self._port)
        return self

    async def run(self) -> None:
        """Wait until :meth:`shutdown`."""
        if self._server is None:
            raise RuntimeError("enter the metrics server (async with) before run()")
        await self._stopped.wait()

    async def shutdown(self) -> None:
        """Stop listening. Idempotent; a scrape in progress is allowed to finish."""
        if self._server is not None and not self._stopped.is_set():
            self._server.close()
            await self._server.wait_closed()
        self._stopped.set()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
            status, content_type, body, send_body = self._respond(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, content_type, body, send_body = 400, "text/plain", b"bad request\n", True
        except ConnectionError:
            writer.close()
            return
        try:
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                f"Content-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode("ascii")
            )
            if send_body:
                writer.write(body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _respond(self, head: bytes) -> tuple[int, str, bytes, bool]:
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return 400, "text/plain", b"bad request\n", True
        method, target = parts[0], parts[1]
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"method not allowed\n", True
        send_body = method == "GET"
        path = target.split("?", 1)[0]
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self._registry), send_body
        if path == "/healthz":
            healthy = self._health_check is None or self._health_check()
            if healthy:
                return 200, "text/plain", b"ok\n", send_body
            return 503, "text/plain", b"unhealthy\n", send_body
        return 404, "text/plain", b"not found\n", send_body
