"""The server component: health, reflection, drain, binding checks — on a real grpc.aio server."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from skyloom_common.config import GrpcSettings
from skyloom_common.rpc import GrpcServer, bind_service

from .conftest import (
    ECHO,
    OPEN_POLICY,
    OTHER,
    PACKAGE,
    EchoClient,
    EchoImpl,
    EchoRequest,
    StartServer,
)

pytestmark = pytest.mark.integration

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _check(channel: grpc.aio.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(response.status)


async def test_health_is_serving_for_server_and_each_service(start_server: StartServer) -> None:
    async with start_server() as (_, client, _impl):
        assert await _check(client.channel) == SERVING
        assert await _check(client.channel, f"{PACKAGE}.Echo") == SERVING
        assert await _check(client.channel, f"{PACKAGE}.Other") == SERVING
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await _check(client.channel, "no.such.Service")
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_registered_services(start_server: StartServer) -> None:
    async with start_server() as (_, client, _impl):
        stub = reflection_pb2_grpc.ServerReflectionStub(client.channel)
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = set()
        async for response in call:
            names = {s.name for s in response.list_services_response.service}
        assert {f"{PACKAGE}.Echo", f"{PACKAGE}.Other", "grpc.health.v1.Health"} <= names

        # The descriptor is served too, so grpcurl-style clients can build requests.
        call = stub.ServerReflectionInfo(
            iter(
                [reflection_pb2.ServerReflectionRequest(file_containing_symbol=f"{PACKAGE}.Echo")]
            ),
            timeout=5,
        )
        responses = [r async for r in call]
        assert responses[0].file_descriptor_response.file_descriptor_proto


async def test_drain_flips_health_and_lets_in_flight_rpc_finish(start_server: StartServer) -> None:
    settings = GrpcSettings(port=0, drain_notice_seconds=0.3, drain_seconds=5)
    async with start_server(settings=settings) as (server, client, impl):
        watch = health_pb2_grpc.HealthStub(client.channel).Watch(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
        first = await watch.read()
        assert first.status == SERVING

        in_flight = asyncio.ensure_future(client.say()(EchoRequest(text="slow", sleep_seconds=0.8)))
        await impl.started.wait()
        draining = asyncio.ensure_future(server.shutdown())

        # During the notice window health says NOT_SERVING (to a new Check and to the watcher).
        second = await asyncio.wait_for(watch.read(), 2)
        assert second.status == NOT_SERVING
        assert await _check(client.channel) == NOT_SERVING
        # The watch stream ends instead of holding the drain open.
        assert await asyncio.wait_for(watch.read(), 2) is grpc.aio.EOF

        reply = await in_flight
        assert reply.text == "slow"
        await asyncio.wait_for(draining, 5)
        assert impl.finished == 1

        # After the drain the listener is gone.
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await client.say()(EchoRequest(text="late"), timeout=1)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_drain_deadline_cancels_rpcs_that_run_too_long(start_server: StartServer) -> None:
    settings = GrpcSettings(port=0, drain_seconds=0.3)
    async with start_server(settings=settings) as (server, client, impl):
        slow = asyncio.ensure_future(client.say()(EchoRequest(text="x", sleep_seconds=30)))
        await impl.started.wait()
        began = time.monotonic()
        await server.shutdown()
        assert time.monotonic() - began < 3
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await slow
        assert info.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        assert impl.finished == 0


async def test_shutdown_is_idempotent_and_run_returns(start_server: StartServer) -> None:
    async with start_server() as (server, _client, _impl):
        runner = asyncio.ensure_future(server.run())
        await asyncio.gather(server.shutdown(), server.shutdown())
        await server.shutdown()
        await asyncio.wait_for(runner, 5)


async def test_fixed_port_already_in_use_fails_to_start() -> None:
    async with GrpcServer(
        [bind_service(OTHER, _Pinger())], settings=GrpcSettings(port=0), auth=OPEN_POLICY
    ) as server:
        clash = GrpcServer(
            [bind_service(OTHER, _Pinger())],
            settings=GrpcSettings(port=server.port),
            auth=OPEN_POLICY,
        )
        with pytest.raises(OSError, match="cannot bind"):
            await clash.__aenter__()


class _Pinger:
    async def Ping(self, request: object, call: object) -> object:
        raise NotImplementedError


def test_binding_rejects_incomplete_or_misshaped_implementations() -> None:
    class Missing:
        async def Say(self, request: object, call: object) -> object:
            raise NotImplementedError

    with pytest.raises(TypeError, match="no method Count"):
        bind_service(ECHO, Missing())

    class SyncSay:
        def Say(self, request: object, call: object) -> object:
            raise NotImplementedError

        async def Count(self, request: object, call: object) -> object:
            raise NotImplementedError

    with pytest.raises(TypeError, match="must be an `async def`"):
        bind_service(ECHO, SyncSay())

    class CoroutineCount:
        async def Say(self, request: object, call: object) -> object:
            raise NotImplementedError

        async def Count(self, request: object, call: object) -> object:
            raise NotImplementedError

    with pytest.raises(TypeError, match="async generator"):
        bind_service(ECHO, CoroutineCount())


def test_server_rejects_authorizer_for_unknown_method() -> None:
    from skyloom_common.rpc import AuthPolicy, DisabledAuthenticator, RequireScopes

    policy = AuthPolicy(
        DisabledAuthenticator(), method_authorizers={f"/{PACKAGE}.Echo/Sya": RequireScopes(["x"])}
    )
    with pytest.raises(ValueError, match="unregistered methods"):
        GrpcServer([bind_service(OTHER, _Pinger())], settings=GrpcSettings(port=0), auth=policy)


async def test_cancellation_skips_the_drain() -> None:
    # A forced stop (second SIGTERM cancels the main task) must not wait for drain_seconds.
    impl = EchoImpl()
    server = GrpcServer(
        [bind_service(ECHO, impl), bind_service(OTHER, _Pinger())],
        settings=GrpcSettings(port=0, drain_seconds=30),
        auth=OPEN_POLICY,
    )
    entered = asyncio.Event()

    async def serve() -> None:
        async with server:
            entered.set()
            await server.run()

    serving = asyncio.ensure_future(serve())
    await entered.wait()
    async with grpc.aio.insecure_channel(server.target) as channel:
        slow = asyncio.ensure_future(
            EchoClient(channel).say()(EchoRequest(text="x", sleep_seconds=60))
        )
        await impl.started.wait()
        began = time.monotonic()
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
        assert time.monotonic() - began < 3
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await slow
        assert info.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
