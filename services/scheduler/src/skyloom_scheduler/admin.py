"""The scheduler's one seam to admin: the :class:`AdminClient` Protocol and its gRPC client.

``create_execution`` must be idempotent on ``name``: the scheduler may send the same fire more
than once (a retry after a lost answer, two leaders for a moment), and admin answering
ALREADY_EXISTS is the proof that the execution exists, so it is success
(:attr:`CreateOutcome.ALREADY_EXISTS`). An answer that will not change on retry (bad inputs, an
unknown or inactive launch plan, a concurrency limit with behaviour SKIP) raises
:class:`AdminRejected`; anything else is transient and the caller retries with backoff.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from skyloom_common.errors import AlreadyExists, ResourceExhausted, SkyloomError
from skyloom_common.rpc import error_from_rpc_error
from skyloom_idl.admin import common_pb2, execution_pb2, launch_plan_pb2
from skyloom_idl.core import identifier_pb2, literals_pb2
from skyloom_idl.service.admin_pb2_grpc import AdminServiceStub

__all__ = ["AdminClient", "AdminRejected", "CreateOutcome", "GrpcAdminClient"]

_PAGE = 200


class CreateOutcome(enum.Enum):
    CREATED = "created"
    ALREADY_EXISTS = "already_exists"


class AdminRejected(Exception):
    """Admin refused the execution for good; ``code`` is the status name (``INVALID_ARGUMENT``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AdminClient(Protocol):
    """What the scheduler needs from admin."""

    async def list_active_launch_plans(self) -> list[launch_plan_pb2.LaunchPlan]:
        """Every active launch plan version of every project and domain."""
        ...

    async def create_execution(
        self,
        launch_plan_id: identifier_pb2.Identifier,
        name: str,
        inputs: literals_pb2.LiteralMap,
        scheduled_at: datetime,
        *,
        trigger: str = "",
    ) -> CreateOutcome:
        """Start ``name`` (mode SCHEDULED, or TRIGGER when ``trigger`` names one)."""
        ...


def _is_transient(error: SkyloomError) -> bool:
    return error.retryable and not isinstance(error, ResourceExhausted)


class GrpcAdminClient:
    """:class:`AdminClient` over admin's gRPC API (``AdminService``)."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        token: str | None = None,
        header: str = "authorization",
        timeout: float = 10.0,
    ) -> None:
        self._stub = AdminServiceStub(channel)
        self._metadata = ((header, f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    async def list_active_launch_plans(self) -> list[launch_plan_pb2.LaunchPlan]:
        found: list[launch_plan_pb2.LaunchPlan] = []
        token = ""
        while True:
            request = launch_plan_pb2.ListActiveLaunchPlansRequest(
                page=common_pb2.PageRequest(limit=_PAGE, token=token)
            )
            response = await self._stub.ListActiveLaunchPlans(
                request, metadata=self._metadata, timeout=self._timeout
            )
            found.extend(response.launch_plans)
            if not response.next_token:
                return found
            token = response.next_token

    async def create_execution(
        self,
        launch_plan_id: identifier_pb2.Identifier,
        name: str,
        inputs: literals_pb2.LiteralMap,
        scheduled_at: datetime,
        *,
        trigger: str = "",
    ) -> CreateOutcome:
        stamp = Timestamp()
        stamp.FromDatetime(scheduled_at)
        mode = (
            execution_pb2.ExecutionMetadata.MODE_TRIGGER
            if trigger
            else (execution_pb2.ExecutionMetadata.MODE_SCHEDULED)
        )
        request = execution_pb2.CreateExecutionRequest(
            project=launch_plan_id.project,
            domain=launch_plan_id.domain,
            name=name,
            spec=execution_pb2.ExecutionSpec(
                launch_plan=launch_plan_id,
                metadata=execution_pb2.ExecutionMetadata(
                    mode=mode, scheduled_at=stamp, trigger=trigger
                ),
            ),
            inputs=inputs,
        )
        try:
            await self._stub.CreateExecution(
                request, metadata=self._metadata, timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            error = error_from_rpc_error(exc)
            if isinstance(error, AlreadyExists):
                return CreateOutcome.ALREADY_EXISTS
            if _is_transient(error) or exc.code() in (
                grpc.StatusCode.DEADLINE_EXCEEDED,
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.INTERNAL,
                grpc.StatusCode.UNKNOWN,
                grpc.StatusCode.CANCELLED,
            ):
                raise
            raise AdminRejected(exc.code().name, str(error)) from None
        return CreateOutcome.CREATED
