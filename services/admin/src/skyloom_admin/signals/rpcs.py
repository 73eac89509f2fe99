"""Signal RPCs: a mixin composed into admin's servicer (``execution_plane``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skyloom_admin.executions.rpcs import principal_of
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import signal_pb2 as sg

if TYPE_CHECKING:
    from skyloom_admin.executions.plane import ExecutionPlane

__all__ = ["SignalRpcs"]


class SignalRpcs:
    execution_plane: ExecutionPlane

    async def GetOrCreateSignal(
        self, request: sg.GetOrCreateSignalRequest, call: RpcCall
    ) -> sg.GetOrCreateSignalResponse:
        signal = await self.execution_plane.signals.get_or_create(request)
        return sg.GetOrCreateSignalResponse(signal=signal)

    async def ListSignals(
        self, request: sg.ListSignalsRequest, call: RpcCall
    ) -> sg.ListSignalsResponse:
        return await self.execution_plane.signals.list(request)

    async def SetSignal(self, request: sg.SetSignalRequest, call: RpcCall) -> sg.SetSignalResponse:
        signal = await self.execution_plane.signals.set(
            request.id, request.value, request.comment, principal_of(call)
        )
        return sg.SetSignalResponse(signal=signal)

    async def ApproveSignal(
        self, request: sg.ApproveSignalRequest, call: RpcCall
    ) -> sg.ApproveSignalResponse:
        signal = await self.execution_plane.signals.approve(request, principal_of(call))
        return sg.ApproveSignalResponse(signal=signal)
