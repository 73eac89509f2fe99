"""Service composition (in-process fakes) and run_main under real signals (subprocess)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import textwrap
import time
from types import TracebackType

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from skyloom_common.lifecycle import Service


class Fake:
    """A component that records what happened to it; optionally fails or stops on its own."""

    def __init__(
        self,
        name: str,
        log: list[str],
        *,
        fail_run: bool = False,
        fail_enter: bool = False,
        returns_early: bool = False,
        ignores_shutdown: bool = False,
    ) -> None:
        self.name, self.log = name, log
        self.fail_run, self.fail_enter = fail_run, fail_enter
        self.returns_early, self.ignores_shutdown = returns_early, ignores_shutdown
        self._stop = asyncio.Event()

    async def __aenter__(self) -> Fake:
        if self.fail_enter:
            raise OSError(f"{self.name} cannot bind")
        self.log.append(f"enter {self.name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()
        self.log.append(f"exit {self.name}")

    async def run(self) -> None:
        await asyncio.sleep(0.01)
        if self.fail_run:
            raise RuntimeError(f"{self.name} crashed")
        if self.returns_early:
            return
        if self.ignores_shutdown:
            await asyncio.sleep(3600)
        await self._stop.wait()

    async def shutdown(self) -> None:
        if not self._stop.is_set():
            self.log.append(f"shutdown {self.name}")
        self._stop.set()


async def test_stop_request_shuts_down_in_reverse_order() -> None:
    log: list[str] = []
    stopped: list[str] = []
    service = Service(
        "svc", [Fake("metrics", log), Fake("grpc", log)], on_stopped=[lambda: stopped.append("x")]
    )
    task = asyncio.ensure_future(service.run())
    await asyncio.sleep(0.05)
    service.request_stop()
    await asyncio.wait_for(task, 5)
    assert log == [
        "enter metrics",
        "enter grpc",
        "shutdown grpc",
        "shutdown metrics",
        "exit grpc",
        "exit metrics",
    ]
    assert stopped == ["x"]


async def test_first_failure_stops_everything_and_is_reraised() -> None:
    log: list[str] = []
    stopped: list[str] = []
    service = Service(
        "svc",
        [Fake("metrics", log), Fake("consumer", log, fail_run=True), Fake("grpc", log)],
        on_stopped=[lambda: stopped.append("flushed")],
    )
    with pytest.raises(RuntimeError, match="consumer crashed") as info:
        await asyncio.wait_for(service.run(), 5)
    assert "raised by component Fake of service svc" in (info.value.__notes__ or [""])[0]
    assert {"shutdown metrics", "shutdown grpc", "exit metrics", "exit grpc"} <= set(log)
    assert stopped == ["flushed"]


async def test_a_component_stopping_on_its_own_stops_the_service() -> None:
    log: list[str] = []
    service = Service("svc", [Fake("metrics", log), Fake("relay", log, returns_early=True)])
    with pytest.raises(RuntimeError, match="stopped unexpectedly"):
        await asyncio.wait_for(service.run(), 5)
    assert "shutdown metrics" in log


async def test_failure_to_start_unwinds_the_started_ones() -> None:
    log: list[str] = []
    service = Service("svc", [Fake("metrics", log), Fake("grpc", log, fail_enter=True)])
    with pytest.raises(OSError, match="cannot bind"):
        await asyncio.wait_for(service.run(), 5)
    assert log == ["enter metrics", "shutdown metrics", "exit metrics"]


async def test_stragglers_are_cancelled_after_stop_timeout() -> None:
    log: list[str] = []
    service = Service("svc", [Fake("stuck", log, ignores_shutdown=True)], stop_timeout=0.2)
    task = asyncio.ensure_future(service.run())
    await asyncio.sleep(0.05)
    began = time.monotonic()
    service.request_stop()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - began < 2


_MAIN = textwrap.dedent(
    """
    import sys
    from contextlib import asynccontextmanager

    from skyloom_common.config import ServiceSettings, load_settings
    from skyloom_common.lifecycle import run_main
    from skyloom_common.runtime import ServiceRuntime


    @asynccontextmanager
    async def setup():
        settings = load_settings(ServiceSettings, "demo")
        runtime = ServiceRuntime.from_settings("demo", settings)
        yield runtime.service(runtime.grpc_server([]))


    sys.exit(run_main(setup))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_serving(port: int, deadline: float) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.05)


@pytest.mark.integration
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_run_main_drains_on_signal_and_exits_zero(signum: signal.Signals) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "SKYLOOM_DEMO__AUTH__MODE": "disabled",
        "SKYLOOM_DEMO__GRPC__PORT": str(port),
        "SKYLOOM_DEMO__METRICS__PORT": "0",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MAIN, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await _wait_serving(port, time.monotonic() + 20)
        proc.send_signal(signum)
        assert proc.stderr is not None
        stderr = await asyncio.wait_for(proc.stderr.read(), 20)
        code = await asyncio.wait_for(proc.wait(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    messages = [line["msg"] for line in lines]
    assert code == 0, messages
    assert any(m.startswith(f"{signum.name}: draining") for m in messages)
    assert "gRPC server stopped" in messages
    assert messages[-1] == "service demo stopped"
    assert all(line["service"] == "demo" for line in lines)


@pytest.mark.integration
async def test_run_main_exits_nonzero_when_setup_fails() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYLOOM_DEMO__")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MAIN, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert b"invalid demo settings: auth: Field required" in stderr
