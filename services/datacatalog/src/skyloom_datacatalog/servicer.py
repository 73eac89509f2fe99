"""DataCatalogService over gRPC: validate each request, delegate to a manager, wrap the answer.

Bound by descriptor with :func:`skyloom_common.rpc.bind_service`; the runtime parses request
bytes (malformed → INVALID_ARGUMENT) and maps the domain errors raised below to statuses in its
one error interceptor. Nothing here touches storage or maps errors itself.
"""

from __future__ import annotations

from skyloom_common.rpc import RpcCall
from skyloom_datacatalog import validation as check
from skyloom_datacatalog.manager import CatalogManager
from skyloom_datacatalog.reservations import ReservationManager
from skyloom_idl.datacatalog import cache_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["DataCatalogServicer"]


class DataCatalogServicer:
    def __init__(
        self, catalog: CatalogManager, reservations: ReservationManager, *, max_inline_bytes: int
    ) -> None:
        self._catalog = catalog
        self._reservations = reservations
        self._max_inline_bytes = max_inline_bytes

    async def CreateDataset(
        self, request: dc.CreateDatasetRequest, call: RpcCall
    ) -> dc.CreateDatasetResponse:
        check.check_create_dataset(request)
        await self._catalog.create_dataset(request.dataset)
        return dc.CreateDatasetResponse()

    async def GetDataset(
        self, request: dc.GetDatasetRequest, call: RpcCall
    ) -> dc.GetDatasetResponse:
        check.check_dataset_id(request.dataset)
        return dc.GetDatasetResponse(dataset=await self._catalog.get_dataset(request.dataset))

    async def ListDatasets(
        self, request: dc.ListDatasetsRequest, call: RpcCall
    ) -> dc.ListDatasetsResponse:
        check.check_list_datasets(request)
        return await self._catalog.list_datasets(request)

    async def CreateArtifact(
        self, request: dc.CreateArtifactRequest, call: RpcCall
    ) -> dc.CreateArtifactResponse:
        check.check_create_artifact(request, max_inline_bytes=self._max_inline_bytes)
        await self._catalog.create_artifact(request.artifact)
        return dc.CreateArtifactResponse()

    async def GetArtifact(
        self, request: dc.GetArtifactRequest, call: RpcCall
    ) -> dc.GetArtifactResponse:
        check.check_get_artifact(request)
        return dc.GetArtifactResponse(artifact=await self._catalog.get_artifact(request))

    async def ListArtifacts(
        self, request: dc.ListArtifactsRequest, call: RpcCall
    ) -> dc.ListArtifactsResponse:
        check.check_list_artifacts(request)
        return await self._catalog.list_artifacts(request)

    async def AddTag(self, request: dc.AddTagRequest, call: RpcCall) -> dc.AddTagResponse:
        check.check_add_tag(request)
        await self._catalog.add_tag(request.tag, overwrite=request.overwrite)
        return dc.AddTagResponse()

    async def GetOrExtendReservation(
        self, request: dc.GetOrExtendReservationRequest, call: RpcCall
    ) -> dc.GetOrExtendReservationResponse:
        check.check_reservation(request)
        reservation = await self._reservations.get_or_extend(
            request.reservation_id, request.owner_id, request.heartbeat_interval
        )
        return dc.GetOrExtendReservationResponse(reservation=reservation)

    async def ReleaseReservation(
        self, request: dc.ReleaseReservationRequest, call: RpcCall
    ) -> dc.ReleaseReservationResponse:
        check.check_release(request)
        await self._reservations.release(request.reservation_id, request.owner_id)
        return dc.ReleaseReservationResponse()

    async def ListCacheEntries(
        self, request: cache_pb2.ListCacheEntriesRequest, call: RpcCall
    ) -> cache_pb2.ListCacheEntriesResponse:
        check.check_list_cache_entries(request)
        return await self._catalog.list_cache_entries(request)

    async def EvictCacheEntry(
        self, request: cache_pb2.EvictCacheEntryRequest, call: RpcCall
    ) -> cache_pb2.EvictCacheEntryResponse:
        check.check_evict_entry(request)
        await self._catalog.evict_entry(request.dataset, request.tag_name)
        return cache_pb2.EvictCacheEntryResponse()

    async def EvictCacheVersion(
        self, request: cache_pb2.EvictCacheVersionRequest, call: RpcCall
    ) -> cache_pb2.EvictCacheVersionResponse:
        check.check_evict_version(request)
        count = await self._catalog.evict_version(request)
        return cache_pb2.EvictCacheVersionResponse(evicted_count=count)
