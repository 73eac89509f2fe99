"""CreateWorkflowEvent, CreateNodeEvent, CreateTaskEvent: the same apply path as the stream.

A mixin composed into admin's servicer, which provides ``execution_plane``
(:class:`skyloom_admin.executions.plane.ExecutionPlane`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skyloom_common.rpc import RpcCall
from skyloom_idl.event import ingest_pb2

if TYPE_CHECKING:
    from skyloom_admin.executions.plane import ExecutionPlane

__all__ = ["EventRpcs"]


class EventRpcs:
    execution_plane: ExecutionPlane

    async def CreateWorkflowEvent(
        self, request: ingest_pb2.CreateWorkflowEventRequest, call: RpcCall
    ) -> ingest_pb2.CreateWorkflowEventResponse:
        plane = self.execution_plane
        await plane.ingest.apply_in_transaction(plane.pool, "workflow", request.event)
        return ingest_pb2.CreateWorkflowEventResponse()

    async def CreateNodeEvent(
        self, request: ingest_pb2.CreateNodeEventRequest, call: RpcCall
    ) -> ingest_pb2.CreateNodeEventResponse:
        plane = self.execution_plane
        await plane.ingest.apply_in_transaction(plane.pool, "node", request.event)
        return ingest_pb2.CreateNodeEventResponse()

    async def CreateTaskEvent(
        self, request: ingest_pb2.CreateTaskEventRequest, call: RpcCall
    ) -> ingest_pb2.CreateTaskEventResponse:
        plane = self.execution_plane
        await plane.ingest.apply_in_transaction(plane.pool, "task", request.event)
        return ingest_pb2.CreateTaskEventResponse()
