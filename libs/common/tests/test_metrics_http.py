"""The /metrics + /healthz listener, spoken to over real sockets."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from skyloom_common.metrics import MetricsServer, create_registry

pytestmark = pytest.mark.integration


def _get(port: int, path: str, method: str = "GET") -> tuple[int, str, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


async def _raw(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return response


async def test_metrics_and_healthz() -> None:
    registry = CollectorRegistry()
    Counter("skyloom_test_events", "events seen", registry=registry).inc(3)
    healthy = True
    async with MetricsServer(registry, port=0, health_check=lambda: healthy) as server:
        status, content_type, body = await asyncio.to_thread(_get, server.port, "/metrics")
        assert status == 200
        assert content_type.startswith("text/plain; version=")
        assert b"skyloom_test_events_total 3.0" in body

        assert (await asyncio.to_thread(_get, server.port, "/healthz"))[0] == 200
        healthy = False
        assert (await asyncio.to_thread(_get, server.port, "/healthz"))[0] == 503

        assert (await asyncio.to_thread(_get, server.port, "/nope"))[0] == 404
        assert (await asyncio.to_thread(_get, server.port, "/metrics", "POST"))[0] == 405
        status, _, body = await asyncio.to_thread(_get, server.port, "/metrics", "HEAD")
        assert status == 200
        assert body == b""


async def test_garbage_requests_get_400_and_the_server_keeps_serving() -> None:
    async with MetricsServer(CollectorRegistry(), port=0) as server:
        assert (await _raw(server.port, b"HELLO\r\n\r\n")).startswith(b"HTTP/1.1 400")
        oversized = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n"
        assert (await _raw(server.port, oversized)).startswith(b"HTTP/1.1 400")
        assert (await _raw(server.port, b"GET /healthz HTTP/1.1\r\n\r\n")).startswith(
            b"HTTP/1.1 200"
        )


async def test_shutdown_is_idempotent_and_ends_run() -> None:
    server = MetricsServer(create_registry(), port=0)
    async with server:
        runner = asyncio.ensure_future(server.run())
        await server.shutdown()
        await server.shutdown()
        await asyncio.wait_for(runner, 5)
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", server.port)


def test_registries_are_per_instance() -> None:
    a, b = create_registry(), create_registry()
    Counter("only_in_a", "x", registry=a)
    assert a.get_sample_value("only_in_a_total") == 0
    assert b.get_sample_value("only_in_a_total") is None
    assert a.get_sample_value("process_resident_memory_bytes") is not None
