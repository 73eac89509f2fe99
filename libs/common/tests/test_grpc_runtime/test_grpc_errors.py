"""Bad input and failures as a client sees them (reliability.md B1, B4), on a real server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from skyloom_common.config import GrpcSettings
from skyloom_common.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    SkyloomError,
    Unavailable,
)
from skyloom_common.rpc import GrpcServer, bind_service, error_from_rpc_error

from .conftest import ECHO, OPEN_POLICY, EchoClient, EchoRequest, StartServer

pytestmark = pytest.mark.integration


async def _fails(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call  # type: ignore[misc]
    return info.value


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff\xff\xff\xff",  # truncated varint tag
        b"\x0a\x05ab",  # length-delimited field longer than the buffer
        b"\x0a\x02\xc3\x28",  # invalid UTF-8 in a proto3 string field
        b"\x0a" * 5000,  # long run of bogus tags
    ],
)
async def test_malformed_request_is_invalid_argument_and_server_stays_up(
    start_server: StartServer, garbage: bytes
) -> None:
    async with start_server() as (_, client, _impl):
        error = await _fails(client.raw_say()(garbage, timeout=5))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Exception deserializing" not in (error.details() or "")
        domain = error_from_rpc_error(error)
        assert isinstance(domain, InvalidArgument)
        assert domain.reason == "MALFORMED_REQUEST"

        reply = await client.say()(EchoRequest(text="still here"), timeout=5)
        assert reply.text == "still here"


async def test_domain_invalid_argument_carries_decodable_bad_request(
    start_server: StartServer,
) -> None:
    async with start_server() as (_, client, _impl):
        call = client.say()(EchoRequest(fail="invalid"), timeout=5)
        error = await _fails(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error.details() == "2 problems"

        # Decoded with the stock grpcio-status helper, as any Python client would.
        status = rpc_status.from_call(error)
        assert status is not None
        bad = error_details_pb2.BadRequest()
        assert status.details[0].Unpack(bad)
        assert [(v.field, v.description) for v in bad.field_violations] == [
            ("text", "must not be empty"),
            ("nodes[1].upstream_node_ids[0]", "cycle: a -> b -> a"),
        ]
        # And rebuilt into the domain error by the runtime's client helper.
        domain = error_from_rpc_error(error)
        assert isinstance(domain, InvalidArgument)
        assert domain.field_paths == ("text", "nodes[1].upstream_node_ids[0]")


async def test_already_exists_keeps_its_diff_across_the_wire(start_server: StartServer) -> None:
    async with start_server() as (_, client, _impl):
        error = await _fails(client.say()(EchoRequest(fail="exists"), timeout=5))
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS
        assert "+ image: b" in (error.details() or "")
        domain = error_from_rpc_error(error)
        assert isinstance(domain, AlreadyExists)
        assert domain.diff == "- image: a\n+ image: b"
        assert domain.message == "task t v1 exists\n- image: a\n+ image: b"


async def test_unexpected_exception_is_internal_with_error_id_and_no_traceback(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="skyloom_common.rpc.status")
    async with start_server() as (_, client, _impl):
        error = await _fails(client.say()(EchoRequest(fail="boom"), timeout=5))
    assert error.code() == grpc.StatusCode.INTERNAL
    details = error.details() or ""
    assert "Traceback" not in details
    assert "secret internal detail" not in details
    assert "RuntimeError" not in details
    assert "/srv/skyloom" not in details
    assert details.startswith("internal error (error id ")
    error_id = details.removeprefix("internal error (error id ").removesuffix(")")
    # The operator finds the traceback by the id the client was given.
    [record] = [r for r in caplog.records if getattr(r, "error_id", None) == error_id]
    assert record.exc_info is not None
    assert "secret internal detail" in str(record.exc_info[1])


async def test_handler_returning_wrong_message_type_is_internal(start_server: StartServer) -> None:
    async with start_server() as (_, client, _impl):
        error = await _fails(client.say()(EchoRequest(fail="wrong_type"), timeout=5))
        assert error.code() == grpc.StatusCode.INTERNAL


async def test_error_translator_maps_foreign_exceptions(start_server: StartServer) -> None:
    def translate(exc: Exception) -> SkyloomError | None:
        if isinstance(exc, ConnectionError):
            return Unavailable("database unavailable", retry_after=0.5)
        return None

    async with start_server(error_translators=[translate]) as (_, client, _impl):
        error = await _fails(client.say()(EchoRequest(fail="reset"), timeout=5))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        domain = error_from_rpc_error(error)
        assert isinstance(domain, Unavailable)
        assert domain.retryable
        assert domain.retry_after == pytest.approx(0.5)


async def test_error_in_the_middle_of_a_stream_is_mapped(start_server: StartServer) -> None:
    async with start_server() as (_, client, _impl):
        call = client.count()(EchoRequest(text="s", count=3, fail="x"), timeout=5)
        received = []

        async def consume() -> None:
            async for reply in call:
                received.append(reply.index)

        with pytest.raises(grpc.aio.AioRpcError) as info:
            await consume()
        assert received == [0]
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        domain = error_from_rpc_error(info.value)
        assert isinstance(domain, InvalidArgument)
        assert domain.field_paths == ("count",)


async def test_stream_delivers_every_reply(start_server: StartServer) -> None:
    async with start_server() as (_, client, _impl):
        replies = [r.index async for r in client.count()(EchoRequest(text="s", count=4), timeout=5)]
        assert replies == [0, 1, 2, 3]


async def test_oversized_request_is_resource_exhausted(start_server: StartServer) -> None:
    settings = GrpcSettings(port=0, max_message_bytes=64 * 1024)
    async with start_server(settings=settings) as (_, client, impl):
        error = await _fails(client.say()(EchoRequest(payload=b"x" * (65 * 1024)), timeout=5))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert not impl.started.is_set()
        reply = await client.say()(EchoRequest(payload=b"x" * 1024, text="ok"), timeout=5)
        assert reply.text == "ok"


async def test_oversized_response_is_resource_exhausted(start_server: StartServer) -> None:
    settings = GrpcSettings(port=0, max_message_bytes=64 * 1024)
    async with start_server(settings=settings) as (_, client, _impl):
        error = await _fails(client.say()(EchoRequest(reply_size=65 * 1024), timeout=5))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        reply = await client.say()(EchoRequest(reply_size=1024), timeout=5)
        assert len(reply.text) == 1024


async def test_many_violations_are_capped_and_still_delivered(start_server: StartServer) -> None:
    # A validator that reports thousands of violations must not blow the trailing-metadata
    # limit (which the client would see as a confusing INTERNAL).
    class Flood:
        async def Say(self, request: object, call: object) -> object:
            raise InvalidArgument(
                "x" * 10_000,
                violations=[FieldViolation(f"nodes[{i}].id", "d" * 500) for i in range(5000)],
            )

        async def Count(self, request: object, call: object) -> AsyncIterator[object]:
            yield EchoRequest()

    server = GrpcServer(
        [bind_service(ECHO, Flood())], settings=GrpcSettings(port=0), auth=OPEN_POLICY
    )
    async with server, grpc.aio.insecure_channel(server.target) as channel:
        error = await _fails(EchoClient(channel).say()(EchoRequest(), timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.details() or "").endswith("… (truncated)")
    domain = error_from_rpc_error(error)
    assert isinstance(domain, InvalidArgument)
    assert 0 < len(domain.violations) <= 51
