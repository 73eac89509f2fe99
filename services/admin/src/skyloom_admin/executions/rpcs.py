"""Execution RPCs: a mixin composed into admin's servicer, which provides ``execution_plane``.

Validate, delegate to the managers, wrap the answer; no storage and no error mapping here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skyloom_admin.executions.listing import list_executions
from skyloom_admin.executions.validate import require_execution_id
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import execution_pb2 as ex

if TYPE_CHECKING:
    from skyloom_admin.executions.plane import ExecutionPlane

__all__ = ["ExecutionRpcs", "principal_of"]

Mode = ex.ExecutionMetadata.Mode


def principal_of(call: RpcCall) -> str:
    return call.principal.subject if call.principal is not None else ""


class ExecutionRpcs:
    execution_plane: ExecutionPlane

    async def CreateExecution(
        self, request: ex.CreateExecutionRequest, call: RpcCall
    ) -> ex.CreateExecutionResponse:
        eid = await self.execution_plane.executions.create(request, principal_of(call))
        return ex.CreateExecutionResponse(id=eid)

    async def RelaunchExecution(
        self, request: ex.RelaunchExecutionRequest, call: RpcCall
    ) -> ex.RelaunchExecutionResponse:
        require_execution_id(request.id)
        eid = await self.execution_plane.executions.relaunch(
            request.id, request.name, principal_of(call), overwrite_cache=request.overwrite_cache
        )
        return ex.RelaunchExecutionResponse(id=eid)

    async def RecoverExecution(
        self, request: ex.RecoverExecutionRequest, call: RpcCall
    ) -> ex.RecoverExecutionResponse:
        require_execution_id(request.id)
        eid = await self.execution_plane.executions.relaunch(
            request.id, request.name, principal_of(call), mode=Mode.MODE_RECOVERED
        )
        return ex.RecoverExecutionResponse(id=eid)

    async def GetExecution(
        self, request: ex.GetExecutionRequest, call: RpcCall
    ) -> ex.GetExecutionResponse:
        require_execution_id(request.id)
        execution = await self.execution_plane.executions.get(request.id)
        return ex.GetExecutionResponse(execution=execution)

    async def UpdateExecution(
        self, request: ex.UpdateExecutionRequest, call: RpcCall
    ) -> ex.UpdateExecutionResponse:
        require_execution_id(request.id)
        await self.execution_plane.executions.update_state(
            request.id, request.state, principal_of(call)
        )
        return ex.UpdateExecutionResponse()

    async def ListExecutions(
        self, request: ex.ListExecutionsRequest, call: RpcCall
    ) -> ex.ListExecutionsResponse:
        return await list_executions(self.execution_plane.pool, request)

    async def TerminateExecution(
        self, request: ex.TerminateExecutionRequest, call: RpcCall
    ) -> ex.TerminateExecutionResponse:
        require_execution_id(request.id)
        await self.execution_plane.executions.terminate(
            request.id, request.cause, principal_of(call)
        )
        return ex.TerminateExecutionResponse()

    async def GetExecutionData(
        self, request: ex.GetExecutionDataRequest, call: RpcCall
    ) -> ex.GetExecutionDataResponse:
        require_execution_id(request.id)
        return await self.execution_plane.executions.data(request.id)
