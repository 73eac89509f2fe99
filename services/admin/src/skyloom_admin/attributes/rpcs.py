"""Update/Get/Delete/ListMatchableAttributes."""

from __future__ import annotations

from skyloom_admin.attributes.manager import AttributeManager
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import attributes_pb2 as pb

__all__ = ["AttributeRpcs"]


class AttributeRpcs:
    attributes: AttributeManager

    async def UpdateMatchableAttributes(
        self, request: pb.UpdateMatchableAttributesRequest, call: RpcCall
    ) -> pb.UpdateMatchableAttributesResponse:
        await self.attributes.update(request.attributes)
        return pb.UpdateMatchableAttributesResponse()

    async def GetMatchableAttributes(
        self, request: pb.GetMatchableAttributesRequest, call: RpcCall
    ) -> pb.GetMatchableAttributesResponse:
        found = await self.attributes.get(request.scope, request.effective)
        scoped = pb.ScopedAttributes(scope=request.scope, attributes=found)
        return pb.GetMatchableAttributesResponse(attributes=scoped)

    async def DeleteMatchableAttributes(
        self, request: pb.DeleteMatchableAttributesRequest, call: RpcCall
    ) -> pb.DeleteMatchableAttributesResponse:
        await self.attributes.delete(request.scope)
        return pb.DeleteMatchableAttributesResponse()

    async def ListMatchableAttributes(
        self, request: pb.ListMatchableAttributesRequest, call: RpcCall
    ) -> pb.ListMatchableAttributesResponse:
        return pb.ListMatchableAttributesResponse(
            attributes=await self.attributes.list_scoped(request.project)
        )
