"""Authentication on every method, health and reflection exempt (reliability.md B7)."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import SecretStr

from skyloom_common.config import AuthSettings
from skyloom_common.errors import PermissionDenied, Unauthenticated
from skyloom_common.rpc import (
    AuthPolicy,
    RequireScopes,
    StaticTokenAuthenticator,
    auth_policy_from_settings,
    error_from_rpc_error,
)

from .conftest import ECHO, OTHER, PACKAGE, EchoClient, EchoRequest, StartServer

pytestmark = pytest.mark.integration

TOKEN = "t0k3n-for-tests-only-0123456789abcdef"
OTHER_TOKEN = "another-token-for-tests-0123456789abcd"
STATIC = AuthSettings(mode="static_token", static_tokens={"propeller": SecretStr(TOKEN)})

BAD_METADATA = [
    pytest.param((), id="no-token"),
    pytest.param((("authorization", "Bearer nothing"),), id="bearer-nothing"),
    pytest.param((("authorization", "Bearer "),), id="bearer-empty"),
    pytest.param((("authorization", TOKEN),), id="no-scheme"),
    pytest.param((("authorization", f"Basic {TOKEN}"),), id="basic-scheme"),
    pytest.param((("authorization", f"Bearer {TOKEN}x"),), id="token-plus-one"),
    pytest.param((("authorization", f"Bearer {TOKEN[:-1]}"),), id="token-prefix"),
    pytest.param((("x-authorization", f"Bearer {TOKEN}"),), id="wrong-header"),
]


async def _all_methods(client: EchoClient, metadata: tuple[tuple[str, str], ...]) -> list[object]:
    """Call every method of every registered service descriptor; collect error or reply."""
    outcomes: list[object] = []
    for descriptor in (ECHO, OTHER):
        for method in descriptor.methods:
            path = f"/{descriptor.full_name}/{method.name}"
            request = EchoRequest(text="hi", count=1).SerializeToString()
            try:
                if method.server_streaming:
                    call = client.channel.unary_stream(path)(request, metadata=metadata, timeout=5)
                    outcomes.append([r async for r in call])
                else:
                    outcomes.append(
                        await client.channel.unary_unary(path)(
                            request, metadata=metadata, timeout=5
                        )
                    )
            except grpc.aio.AioRpcError as exc:
                outcomes.append(exc)
    return outcomes


@pytest.mark.parametrize("metadata", BAD_METADATA)
async def test_every_method_rejects_missing_or_garbage_credentials(
    start_server: StartServer, metadata: tuple[tuple[str, str], ...]
) -> None:
    async with start_server(auth=auth_policy_from_settings(STATIC)) as (_, client, impl):
        outcomes = await _all_methods(client, metadata)
        assert len(outcomes) == 3
        for outcome in outcomes:
            assert isinstance(outcome, grpc.aio.AioRpcError)
            assert outcome.code() == grpc.StatusCode.UNAUTHENTICATED
            assert TOKEN not in (outcome.details() or "")
            assert isinstance(error_from_rpc_error(outcome), Unauthenticated)
        assert not impl.started.is_set()


async def test_valid_token_reaches_every_method_and_names_the_caller(
    start_server: StartServer,
) -> None:
    async with start_server(auth=auth_policy_from_settings(STATIC)) as (_, client, _impl):
        metadata = (("authorization", f"bearer {TOKEN}"),)  # scheme is case-insensitive
        outcomes = await _all_methods(client, metadata)
        assert not [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
        reply = await client.say()(EchoRequest(text="x"), metadata=metadata, timeout=5)
        assert reply.caller == "propeller"


async def test_malformed_bytes_without_token_are_unauthenticated_not_parsed(
    start_server: StartServer,
) -> None:
    # Auth runs before parsing: an anonymous caller learns nothing about the message schema.
    async with start_server(auth=auth_policy_from_settings(STATIC)) as (_, client, _impl):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await client.raw_say()(b"\xff\xff", timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_health_and_reflection_need_no_token(start_server: StartServer) -> None:
    async with start_server(auth=auth_policy_from_settings(STATIC)) as (_, client, _impl):
        health = await health_pb2_grpc.HealthStub(client.channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        call = reflection_pb2_grpc.ServerReflectionStub(client.channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        responses = [r async for r in call]
        assert responses[0].list_services_response.service


async def test_per_method_authorizer_denies_with_permission_denied(
    start_server: StartServer,
) -> None:
    policy = AuthPolicy(
        StaticTokenAuthenticator(
            {"reader": SecretStr(TOKEN), "admin": SecretStr(OTHER_TOKEN)},
            scopes={"admin": frozenset({"admin"})},
        ),
        method_authorizers={f"/{PACKAGE}.Other/Ping": RequireScopes(["admin"])},
    )
    async with start_server(auth=policy) as (_, client, _impl):
        reader = (("authorization", f"Bearer {TOKEN}"),)
        admin = (("authorization", f"Bearer {OTHER_TOKEN}"),)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await client.ping()(EchoRequest(), metadata=reader, timeout=5)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        denied = error_from_rpc_error(info.value)
        assert isinstance(denied, PermissionDenied)
        assert denied.metadata == {"missing_scopes": "admin"}
        # The reader may still call methods without a rule, and the admin may ping.
        assert (await client.say()(EchoRequest(text="r"), metadata=reader, timeout=5)).text == "r"
        assert (await client.ping()(EchoRequest(), metadata=admin, timeout=5)).text == "pong"


async def test_disabled_mode_lets_anonymous_callers_in(start_server: StartServer) -> None:
    policy = auth_policy_from_settings(AuthSettings(mode="disabled"))
    async with start_server(auth=policy) as (_, client, _impl):
        reply = await client.say()(EchoRequest(text="open"), timeout=5)
        assert reply.caller == "anonymous"
