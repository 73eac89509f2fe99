"""Plain async classes as gRPC services, bound by protobuf ``ServiceDescriptor``.

A service implementation is any object with one method per RPC, named as in the ``.proto``::

    class DataCatalog:
        async def GetDataset(self, request: GetDatasetRequest, call: RpcCall) -> GetDatasetResponse
        async def ListArtifacts(self, request: ListArtifactsRequest, call: RpcCall
                                ) -> AsyncIterator[Artifact]:      # an async generator
            yield ...

:func:`bind_service` checks the object against the descriptor when the server is built (every
method present, a coroutine function for unary responses, an async generator function for
server streams), so a mismatch fails at start-up, not on the first call. Client-streaming and
bidi methods are rejected there too (not supported yet).

Handlers are registered with **no request deserializer**: grpcio hands us the raw bytes and
this module parses them inside the interceptor chain. A ``DecodeError`` therefore becomes
``INVALID_ARGUMENT`` (field ``""``) through the normal error mapping, instead of grpcio's
``INTERNAL "Exception deserializing request!"`` (see docs/adr/0020). The generated
``add_XServicer_to_server`` functions are not used.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar, cast

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from skyloom_common.errors import FieldViolation, InvalidArgument
from skyloom_common.rpc.call import Metadata, MethodInfo, MethodKind, RpcCall, ServerInterceptor
from skyloom_common.rpc.status import RpcAbort

__all__ = ["BoundMethod", "ServiceBinding", "bind_service", "generic_handler"]

UnaryHandler = Callable[[Message, RpcCall], Awaitable[Message]]
StreamHandler = Callable[[Message, RpcCall], AsyncGenerator[Message, None]]

_T = TypeVar("_T")

# grpc reports "no deadline" on the server as a huge number of seconds.
_NO_DEADLINE_THRESHOLD = 10 * 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class BoundMethod:
    info: MethodInfo
    handler: UnaryHandler | StreamHandler


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """A descriptor plus the implementation's bound methods, checked for completeness."""

    descriptor: ServiceDescriptor
    methods: Mapping[str, BoundMethod]

    @property
    def name(self) -> str:
        return self.descriptor.full_name


def _kind(method: MethodDescriptor) -> MethodKind:
    if method.client_streaming:
        raise TypeError(
            f"{method.full_name}: client-streaming and bidi RPCs are not supported by the runtime"
        )
    return MethodKind.UNARY_STREAM if method.server_streaming else MethodKind.UNARY_UNARY


def bind_service(descriptor: ServiceDescriptor, implementation: object) -> ServiceBinding:
    """Bind ``implementation``'s methods to every RPC of ``descriptor``.

    Raises ``TypeError`` naming the first missing or wrongly shaped method.
    """
    methods: dict[str, BoundMethod] = {}
    for method in descriptor.methods:
        kind = _kind(method)
        fn = getattr(implementation, method.name, None)
        if fn is None or not callable(fn):
            raise TypeError(
                f"{type(implementation).__name__} has no method {method.name} "
                f"for RPC {method.full_name}"
            )
        if kind is MethodKind.UNARY_UNARY and not inspect.iscoroutinefunction(fn):
            raise TypeError(f"{method.full_name}: {method.name} must be an `async def`")
        if kind is MethodKind.UNARY_STREAM and not inspect.isasyncgenfunction(fn):
            raise TypeError(
                f"{method.full_name}: {method.name} must be an async generator (`async def` "
                "with `yield`) because the RPC streams responses"
            )
        info = MethodInfo(
            service=descriptor.full_name,
            name=method.name,
            kind=kind,
            input_type=GetMessageClass(method.input_type),
            output_type=GetMessageClass(method.output_type),
        )
        methods[method.name] = BoundMethod(info, cast("UnaryHandler | StreamHandler", fn))
    return ServiceBinding(descriptor, methods)


def _parse(info: MethodInfo, raw: bytes) -> Message:
    request = info.input_type()
    try:
        request.ParseFromString(raw)
    except DecodeError:
        name = info.input_type.DESCRIPTOR.full_name
        raise InvalidArgument(
            f"request is not a valid {name} message",
            violations=[FieldViolation("", f"cannot be decoded as {name}")],
            reason="MALFORMED_REQUEST",
        ) from None
    return request


def _check_response(info: MethodInfo, response: object) -> Message:
    if not isinstance(response, info.output_type):
        # A bug in the handler, answered INTERNAL by the error mapper.
        raise TypeError(
            f"{info.path} handler returned {type(response).__name__}, "
            f"expected {info.output_type.DESCRIPTOR.full_name}"
        )
    return response


class _Deadline:
    __slots__ = ("_context",)

    def __init__(self, context: grpc.aio.ServicerContext[bytes, Message]) -> None:
        self._context = context

    def time_remaining(self) -> float | None:
        remaining = self._context.time_remaining()
        return None if remaining is None or remaining > _NO_DEADLINE_THRESHOLD else remaining


def _make_call(info: MethodInfo, context: grpc.aio.ServicerContext[bytes, Message]) -> RpcCall:
    raw_md = context.invocation_metadata() or ()
    items = tuple((str(k), v) for k, v in raw_md)
    return RpcCall(info, Metadata(items), context.peer(), _deadline=_Deadline(context))


async def _through(
    chain: tuple[ServerInterceptor, ...],
    call: RpcCall,
    body: Callable[[], Awaitable[_T]],
    level: int = 0,
) -> _T:
    """``body()`` inside ``chain[level:]``, outermost first: plain nested ``async with``
    (cheaper per call than an ``AsyncExitStack``, same exception flow)."""
    if level == len(chain):
        return await body()
    async with chain[level].intercept(call):
        return await _through(chain, call, body, level + 1)


def _unary_behavior(
    bound: BoundMethod, interceptors: Sequence[ServerInterceptor]
) -> Callable[[bytes, grpc.aio.ServicerContext[bytes, Message]], Awaitable[Message]]:
    info = bound.info
    handler = cast("UnaryHandler", bound.handler)
    chain = tuple(interceptors)

    async def behavior(raw: bytes, context: grpc.aio.ServicerContext[bytes, Message]) -> Message:
        call = _make_call(info, context)

        async def body() -> Message:
            return _check_response(info, await handler(_parse(info, raw), call))

        try:
            return await _through(chain, call, body)
        except RpcAbort as abort:
            await context.abort(abort.code, abort.message, abort.trailing_metadata())
            raise  # not reached: abort() raises

    return behavior


def _stream_behavior(
    bound: BoundMethod, interceptors: Sequence[ServerInterceptor]
) -> Callable[[bytes, grpc.aio.ServicerContext[bytes, Message]], Awaitable[None]]:
    info = bound.info
    handler = cast("StreamHandler", bound.handler)
    chain = tuple(interceptors)

    async def behavior(raw: bytes, context: grpc.aio.ServicerContext[bytes, Message]) -> None:
        # A coroutine that writes (rather than an async generator grpc iterates) keeps the
        # whole stream inside one interceptor scope, so errors mid-stream are mapped too.
        call = _make_call(info, context)

        async def body() -> None:
            request = _parse(info, raw)
            async with aclosing(handler(request, call)) as responses:
                async for response in responses:
                    await context.write(_check_response(info, response))

        try:
            await _through(chain, call, body)
        except RpcAbort as abort:
            await context.abort(abort.code, abort.message, abort.trailing_metadata())

    return behavior


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def generic_handler(
    binding: ServiceBinding, interceptors: Sequence[ServerInterceptor]
) -> grpc.GenericRpcHandler:
    """A grpcio handler for ``binding`` whose every RPC runs through ``interceptors``
    (outermost first) and receives raw request bytes."""
    handlers: dict[str, grpc.RpcMethodHandler[bytes, Message]] = {}
    for name, bound in binding.methods.items():
        if bound.info.kind is MethodKind.UNARY_UNARY:
            handlers[name] = grpc.unary_unary_rpc_method_handler(
                _unary_behavior(bound, interceptors),
                request_deserializer=None,
                response_serializer=_serialize,
            )
        else:
            handlers[name] = grpc.unary_stream_rpc_method_handler(
                _stream_behavior(bound, interceptors),
                request_deserializer=None,
                response_serializer=_serialize,
            )
    return grpc.method_handlers_generic_handler(binding.name, handlers)
