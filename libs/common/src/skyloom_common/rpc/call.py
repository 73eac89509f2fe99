"""What one RPC looks like to interceptors and handlers: :class:`RpcCall` and friends.

A handler method receives ``(request, call)``; an interceptor receives ``call`` alone. Neither
sees a ``grpc`` object, so service code stays testable without a server.

Interceptor contract (:class:`ServerInterceptor`): ``intercept(call)`` returns an async context
manager that is entered before the request bytes are parsed and exited after the last response
was written (unary: after the handler returned; stream: after the generator finished). An
exception from the handler or from an inner interceptor arrives in ``__aexit__``; an interceptor
may observe it, replace it by raising another, but must not swallow it. The runtime's fixed
order, outermost first, is documented in :mod:`skyloom_common.rpc.server`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from google.protobuf.message import Message

__all__ = [
    "Metadata",
    "MethodInfo",
    "MethodKind",
    "Principal",
    "RpcCall",
    "ServerInterceptor",
]


class MethodKind(enum.StrEnum):
    UNARY_UNARY = "unary_unary"
    UNARY_STREAM = "unary_stream"


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """One RPC method as registered: ``path`` is ``/package.Service/Method``."""

    service: str
    name: str
    kind: MethodKind
    input_type: type[Message]
    output_type: type[Message]

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


class Metadata:
    """Immutable request metadata (gRPC headers). Keys are lower-case; ``-bin`` values are bytes."""

    __slots__ = ("_items",)

    def __init__(self, items: tuple[tuple[str, str | bytes], ...] = ()) -> None:
        self._items = tuple((k.lower(), v) for k, v in items)

    def get(self, key: str) -> str | None:
        """The first text value for ``key``, or ``None``."""
        wanted = key.lower()
        for k, v in self._items:
            if k == wanted and isinstance(v, str):
                return v
        return None

    def get_all(self, key: str) -> list[str | bytes]:
        wanted = key.lower()
        return [v for k, v in self._items if k == wanted]

    def __iter__(self) -> Iterator[tuple[str, str | bytes]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        # Never print values: they may be bearer tokens.
        return f"Metadata(keys={[k for k, _ in self._items]!r})"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. ``authenticated`` is False only when auth is explicitly disabled."""

    subject: str
    scopes: frozenset[str] = frozenset()
    authenticated: bool = True


class _Deadline(Protocol):
    def time_remaining(self) -> float | None: ...


@dataclass(slots=True)
class RpcCall:
    """The per-RPC input every interceptor and handler gets.

    ``principal`` is set by the auth interceptor before the handler runs; it is ``None`` only
    inside interceptors that run outside auth (tracing, metrics, error mapping).
    """

    method: MethodInfo
    metadata: Metadata
    peer: str
    principal: Principal | None = None
    _deadline: _Deadline | None = field(default=None, repr=False)

    def time_remaining(self) -> float | None:
        """Seconds until the client's deadline, or ``None`` if the client set none."""
        return None if self._deadline is None else self._deadline.time_remaining()


class ServerInterceptor(Protocol):
    """Middleware around every RPC; see the module docstring for the contract."""

    def intercept(self, call: RpcCall) -> AbstractAsyncContextManager[None]: ...
