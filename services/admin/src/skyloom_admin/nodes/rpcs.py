"""Node and task execution RPCs: a mixin composed into admin's servicer (``execution_plane``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skyloom_admin.executions.validate import (
    require_execution_id,
    require_node_id,
    require_task_id,
)
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import node_execution_pb2 as ne
from skyloom_idl.admin import task_execution_pb2 as te

if TYPE_CHECKING:
    from skyloom_admin.executions.plane import ExecutionPlane

__all__ = ["NodeExecutionRpcs"]


class NodeExecutionRpcs:
    execution_plane: ExecutionPlane

    async def GetNodeExecution(
        self, request: ne.GetNodeExecutionRequest, call: RpcCall
    ) -> ne.GetNodeExecutionResponse:
        require_node_id(request.id)
        node = await self.execution_plane.nodes.get_node(request.id)
        return ne.GetNodeExecutionResponse(node_execution=node)

    async def ListNodeExecutions(
        self, request: ne.ListNodeExecutionsRequest, call: RpcCall
    ) -> ne.ListNodeExecutionsResponse:
        require_execution_id(request.execution_id, "execution_id")
        return await self.execution_plane.nodes.list_nodes(request)

    async def GetNodeExecutionData(
        self, request: ne.GetNodeExecutionDataRequest, call: RpcCall
    ) -> ne.GetNodeExecutionDataResponse:
        require_node_id(request.id)
        return await self.execution_plane.nodes.node_data(request.id)

    async def GetTaskExecution(
        self, request: te.GetTaskExecutionRequest, call: RpcCall
    ) -> te.GetTaskExecutionResponse:
        require_task_id(request.id)
        task = await self.execution_plane.nodes.get_task(request.id)
        return te.GetTaskExecutionResponse(task_execution=task)

    async def ListTaskExecutions(
        self, request: te.ListTaskExecutionsRequest, call: RpcCall
    ) -> te.ListTaskExecutionsResponse:
        require_node_id(request.node_execution_id, "node_execution_id")
        return await self.execution_plane.nodes.list_tasks(request)

    async def GetTaskExecutionData(
        self, request: te.GetTaskExecutionDataRequest, call: RpcCall
    ) -> te.GetTaskExecutionDataResponse:
        require_task_id(request.id)
        return await self.execution_plane.nodes.task_data(request.id)
