"""``grpc.health.v1.Health`` for grpc.aio, drain-aware.

Same answers as grpcio-health-checking's servicer (``Check`` on an unknown service is
``NOT_FOUND``; ``List`` gives every status; ``Watch`` streams every status change), with one
difference that matters for graceful shutdown: once
:meth:`HealthService.enter_graceful_shutdown` ran, ``Watch`` streams send ``NOT_SERVING`` and
then *finish*, so a load balancer's open watch does not hold the server's drain open until the
deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import grpc
from grpc_health.v1 import health_pb2

__all__ = ["HealthService", "ServingStatus"]

ServingStatus = int
"""A ``grpc.health.v1.HealthCheckResponse.ServingStatus`` enum value."""
_SERVING: ServingStatus = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING: ServingStatus = health_pb2.HealthCheckResponse.NOT_SERVING
_UNKNOWN: ServingStatus = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class HealthService:
    """Servicer for ``grpc.health.v1.Health``; ``""`` is the whole server."""

    def __init__(self, services: Iterable[str]) -> None:
        self._status: dict[str, ServingStatus] = dict.fromkeys(("", *services), _NOT_SERVING)
        self._changed = asyncio.Condition()
        self._draining = False

    @property
    def draining(self) -> bool:
        return self._draining

    def status(self, service: str = "") -> ServingStatus | None:
        return self._status.get(service)

    async def set_all(self, serving: bool) -> None:
        """Mark every service (and the server) SERVING or NOT_SERVING; ignored once draining."""
        if self._draining:
            return
        await self._set_all(_SERVING if serving else _NOT_SERVING)

    async def enter_graceful_shutdown(self) -> None:
        """Permanently NOT_SERVING; open ``Watch`` streams are told, then closed. Idempotent."""
        if self._draining:
            return
        self._draining = True
        await self._set_all(_NOT_SERVING)

    async def _set_all(self, status: ServingStatus) -> None:
        async with self._changed:
            for name in self._status:
                self._status[name] = status
            self._changed.notify_all()

    async def Check(  # gRPC method name
        self,
        request: health_pb2.HealthCheckRequest,
        context: grpc.aio.ServicerContext[
            health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
        ],
    ) -> health_pb2.HealthCheckResponse:
        status = self._status.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def List(  # gRPC method name
        self,
        request: health_pb2.HealthListRequest,
        context: grpc.aio.ServicerContext[
            health_pb2.HealthListRequest, health_pb2.HealthListResponse
        ],
    ) -> health_pb2.HealthListResponse:
        response = health_pb2.HealthListResponse()
        for name, status in self._status.items():
            response.statuses[name].status = status
        return response

    async def Watch(  # gRPC method name
        self,
        request: health_pb2.HealthCheckRequest,
        context: grpc.aio.ServicerContext[
            health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
        ],
    ) -> None:
        last: ServingStatus | None = None
        while True:
            status = self._status.get(request.service, _UNKNOWN)
            if status != last:
                # Written outside the lock: a slow watcher must not block status changes.
                await context.write(health_pb2.HealthCheckResponse(status=status))
                last = status
            if self._draining:
                return
            async with self._changed:
                if self._status.get(request.service, _UNKNOWN) == last and not self._draining:
                    await self._changed.wait()
