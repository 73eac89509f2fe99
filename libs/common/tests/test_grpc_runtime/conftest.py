"""A tiny test-only gRPC contract and fixtures that run it on a real grpc.aio server.

The ``skyloom.testing.echo.v1`` file is built from a ``FileDescriptorProto`` in code and added
to the default descriptor pool, so no generated code (and no skyloom_idl) is involved; the
server binds it by descriptor exactly as it would a generated ``*_pb2``.

``Echo.Say`` behaviour is steered by the request's ``fail`` field:
``invalid`` (InvalidArgument, 2 violations), ``boom`` (RuntimeError), ``exists`` (AlreadyExists
with a diff), ``reset`` (ConnectionResetError), ``wrong_type`` (returns the wrong message).
``sleep_seconds`` delays the answer and ``reply_size`` asks for a reply text that long.
``Echo.Count`` streams ``count`` replies and fails after the first one when ``fail`` is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from skyloom_common.config import GrpcSettings
from skyloom_common.errors import AlreadyExists, FieldViolation, InvalidArgument
from skyloom_common.rpc import (
    AllowAuthenticated,
    AuthPolicy,
    DisabledAuthenticator,
    GrpcServer,
    RpcCall,
    bind_service,
)

PACKAGE = "skyloom.testing.echo.v1"
_T = descriptor_pb2.FieldDescriptorProto


def _file() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(
        name="skyloom/testing/echo/v1/echo.proto", package=PACKAGE, syntax="proto3"
    )
    req = fdp.message_type.add(name="EchoRequest")
    for number, (name, kind) in enumerate(
        [
            ("text", _T.TYPE_STRING),
            ("payload", _T.TYPE_BYTES),
            ("sleep_seconds", _T.TYPE_DOUBLE),
            ("count", _T.TYPE_INT32),
            ("fail", _T.TYPE_STRING),
            ("reply_size", _T.TYPE_INT32),
        ],
        start=1,
    ):
        req.field.add(name=name, number=number, type=kind, label=_T.LABEL_OPTIONAL)
    rep = fdp.message_type.add(name="EchoReply")
    rep.field.add(name="text", number=1, type=_T.TYPE_STRING, label=_T.LABEL_OPTIONAL)
    rep.field.add(name="index", number=2, type=_T.TYPE_INT32, label=_T.LABEL_OPTIONAL)
    rep.field.add(name="caller", number=3, type=_T.TYPE_STRING, label=_T.LABEL_OPTIONAL)
    types = {"input_type": f".{PACKAGE}.EchoRequest", "output_type": f".{PACKAGE}.EchoReply"}
    echo = fdp.service.add(name="Echo")
    echo.method.add(name="Say", **types)
    echo.method.add(name="Count", server_streaming=True, **types)
    other = fdp.service.add(name="Other")
    other.method.add(name="Ping", **types)
    return fdp


_POOL = descriptor_pool.Default()
try:
    _POOL.FindFileByName("skyloom/testing/echo/v1/echo.proto")
except KeyError:
    _POOL.Add(_file())

ECHO: ServiceDescriptor = _POOL.FindServiceByName(f"{PACKAGE}.Echo")
OTHER: ServiceDescriptor = _POOL.FindServiceByName(f"{PACKAGE}.Other")
EchoRequest: Any = GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.EchoRequest"))
EchoReply: Any = GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.EchoReply"))

handler_log = logging.getLogger("skyloom_test.echo")


class EchoImpl:
    """The Echo service as a plain class; records what it saw for the tests to inspect."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.finished = 0

    async def Say(self, request: Any, call: RpcCall) -> Message:
        self.started.set()
        handler_log.info("say %s", request.text)
        if request.sleep_seconds:
            await asyncio.sleep(request.sleep_seconds)
        match request.fail:
            case "invalid":
                raise InvalidArgument(
                    "2 problems",
                    violations=[
                        FieldViolation("text", "must not be empty"),
                        FieldViolation("nodes[1].upstream_node_ids[0]", "cycle: a -> b -> a"),
                    ],
                )
            case "boom":
                raise RuntimeError("secret internal detail at /srv/skyloom/manager.py")
            case "exists":
                raise AlreadyExists("task t v1 exists", diff="- image: a\n+ image: b")
            case "reset":
                raise ConnectionResetError("postgres went away")
            case "wrong_type":
                return EchoRequest(text="oops")
        self.finished += 1
        caller = call.principal.subject if call.principal else ""
        text = "r" * request.reply_size if request.reply_size else request.text
        return EchoReply(text=text, caller=caller)

    async def Count(self, request: Any, call: RpcCall) -> AsyncIterator[Message]:
        for i in range(request.count):
            if request.fail and i == 1:
                raise InvalidArgument.for_field("count", "too many")
            yield EchoReply(text=request.text, index=i)


class OtherImpl:
    async def Ping(self, request: Any, call: RpcCall) -> Message:
        return EchoReply(text="pong")


@dataclass
class EchoClient:
    """Typed-enough client over a real channel (no generated stubs)."""

    channel: grpc.aio.Channel

    def say(self) -> grpc.aio.UnaryUnaryMultiCallable[Any, Any]:
        return self.channel.unary_unary(
            f"/{PACKAGE}.Echo/Say",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoReply.FromString,
        )

    def raw_say(self) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
        return self.channel.unary_unary(f"/{PACKAGE}.Echo/Say")

    def count(self) -> grpc.aio.UnaryStreamMultiCallable[Any, Any]:
        return self.channel.unary_stream(
            f"/{PACKAGE}.Echo/Count",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoReply.FromString,
        )

    def ping(self) -> grpc.aio.UnaryUnaryMultiCallable[Any, Any]:
        return self.channel.unary_unary(
            f"/{PACKAGE}.Other/Ping",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoReply.FromString,
        )


OPEN_POLICY = AuthPolicy(DisabledAuthenticator(), AllowAuthenticated(allow_anonymous=True))

StartServer = Callable[..., AbstractAsyncContextManager[tuple[GrpcServer, EchoClient, EchoImpl]]]


@pytest.fixture
def start_server() -> StartServer:
    """``async with start_server(auth=, settings=, **kwargs) as (server, client, impl)``."""

    @asynccontextmanager
    async def start(
        *,
        auth: AuthPolicy = OPEN_POLICY,
        settings: GrpcSettings | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[GrpcServer, EchoClient, EchoImpl]]:
        impl = EchoImpl()
        server = GrpcServer(
            [bind_service(ECHO, impl), bind_service(OTHER, OtherImpl())],
            settings=settings or GrpcSettings(port=0, drain_seconds=5),
            auth=auth,
            **kwargs,
        )
        async with server, grpc.aio.insecure_channel(server.target) as channel:
            yield server, EchoClient(channel), impl

    return start
