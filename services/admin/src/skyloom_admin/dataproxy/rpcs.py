"""CreateUploadLocation."""

from __future__ import annotations

from skyloom_admin.dataproxy.manager import UploadManager
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import data_proxy_pb2 as pb

__all__ = ["DataProxyRpcs"]


class DataProxyRpcs:
    uploads: UploadManager

    async def CreateUploadLocation(
        self, request: pb.CreateUploadLocationRequest, call: RpcCall
    ) -> pb.CreateUploadLocationResponse:
        location = await self.uploads.create(
            request.project,
            request.domain,
            request.filename,
            request.content_md5,
            request.expires_in.ToTimedelta().total_seconds(),
        )
        response = pb.CreateUploadLocationResponse(
            signed_url=location.signed_url, native_url=location.native_url, headers=location.headers
        )
        response.expires_at.FromDatetime(location.expires_at)
        return response
