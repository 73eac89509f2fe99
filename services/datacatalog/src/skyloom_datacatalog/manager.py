"""Catalog logic: datasets, artifacts, tags, cache lookups and cache management.

Requests arrive validated (see :mod:`.validation`); this layer decides what exists and what
conflicts, and raises domain errors (``NotFound``, ``AlreadyExists``, ``InvalidArgument`` for
state-dependent checks such as undeclared partition keys). It never imports ``grpc``.
"""

from __future__ import annotations

import time

from opentelemetry import trace

from skyloom_common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from skyloom_core.cache_key import DATASET_PREFIX
from skyloom_datacatalog.metrics import CatalogMetrics
from skyloom_datacatalog.pagination import page_request
from skyloom_datacatalog.store.protocol import CacheScope, CatalogRepository, StoredDataset
from skyloom_datacatalog.store.protocol import TagOutcome as Tag
from skyloom_idl.core import identifier_pb2
from skyloom_idl.datacatalog import cache_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["CatalogManager", "describe"]


def describe(dataset: dc.DatasetID) -> str:
    """``project/domain/name@version``, how messages name a dataset."""
    return f"{dataset.project}/{dataset.domain}/{dataset.name}@{dataset.version}"


def _scope(
    task: identifier_pb2.NamedEntityIdentifier, dataset_version: str, task_version: str
) -> CacheScope:
    return CacheScope(
        project=task.project,
        domain=task.domain,
        dataset_name=DATASET_PREFIX + task.name,
        dataset_version=dataset_version or None,
        task_version=task_version or None,
    )


class CatalogManager:
    def __init__(self, repository: CatalogRepository, metrics: CatalogMetrics) -> None:
        self._repo = repository
        self._metrics = metrics

    async def _dataset(self, dataset_id: dc.DatasetID) -> StoredDataset:
        stored = await self._repo.get_dataset(dataset_id)
        if stored is None:
            raise NotFound(
                f"dataset {describe(dataset_id)} does not exist",
                resource=f"dataset:{describe(dataset_id)}",
                reason="DATASET_NOT_FOUND",
            )
        return stored

    # datasets
    async def create_dataset(self, dataset: dc.Dataset) -> None:
        if not await self._repo.create_dataset(dataset):
            raise AlreadyExists(
                f"dataset {describe(dataset.id)} already exists", reason="DATASET_EXISTS"
            )

    async def get_dataset(self, dataset_id: dc.DatasetID) -> dc.Dataset:
        return (await self._dataset(dataset_id)).dataset

    async def list_datasets(self, request: dc.ListDatasetsRequest) -> dc.ListDatasetsResponse:
        page = page_request(
            "datasets", request.pagination, request.filter.SerializeToString(deterministic=True)
        )
        found = await self._repo.list_datasets(list(request.filter.filters), page)
        token = page.token_for(found.next_cursor) if found.next_cursor else ""
        return dc.ListDatasetsResponse(datasets=found.items, next_token=token)

    # artifacts
    async def create_artifact(self, artifact: dc.Artifact) -> None:
        stored = await self._dataset(artifact.dataset)
        declared = set(stored.dataset.partition_keys)
        undeclared = [
            FieldViolation(
                f"artifact.partitions[{i}].key",
                f"dataset {describe(artifact.dataset)} declares no partition key {p.key!r}",
            )
            for i, p in enumerate(artifact.partitions)
            if p.key not in declared
        ]
        if undeclared:
            raise InvalidArgument(undeclared[0].description, violations=undeclared)
        if not await self._repo.create_artifact(stored, artifact):
            raise AlreadyExists(
                f"artifact {artifact.id} already exists in dataset {describe(artifact.dataset)}",
                reason="ARTIFACT_EXISTS",
            )

    async def get_artifact(self, request: dc.GetArtifactRequest) -> dc.Artifact:
        if request.WhichOneof("query_handle") == "tag_name":
            return await self.lookup(request.dataset, request.tag_name)
        stored = await self._dataset(request.dataset)
        artifact = await self._repo.get_artifact(stored, request.artifact_id)
        if artifact is None:
            raise NotFound(
                f"no artifact {request.artifact_id} in dataset {describe(request.dataset)}",
                resource=f"artifact:{describe(request.dataset)}/{request.artifact_id}",
                reason="ARTIFACT_NOT_FOUND",
            )
        return artifact

    async def lookup(self, dataset_id: dc.DatasetID, tag_name: str) -> dc.Artifact:
        """The cache lookup. One round trip on a hit; a miss checks whether the dataset exists
        only to word the NOT_FOUND precisely."""
        start = time.perf_counter()
        artifact = await self._repo.lookup_tag(dataset_id, tag_name)
        hit = artifact is not None
        self._metrics.lookups.labels("hit" if hit else "miss").inc()
        self._metrics.lookup_seconds.observe(time.perf_counter() - start)
        trace.get_current_span().set_attribute("datacatalog.cache.hit", hit)
        if artifact is not None:
            return artifact
        await self._dataset(dataset_id)
        raise NotFound(
            f"no artifact tagged {tag_name} in dataset {describe(dataset_id)}",
            resource=f"tag:{describe(dataset_id)}/{tag_name}",
            reason="TAG_NOT_FOUND",
        )

    async def list_artifacts(self, request: dc.ListArtifactsRequest) -> dc.ListArtifactsResponse:
        stored = await self._dataset(request.dataset)
        page = page_request(
            f"artifacts:{stored.pk}",
            request.pagination,
            request.filter.SerializeToString(deterministic=True),
        )
        found = await self._repo.list_artifacts(stored, list(request.filter.filters), page)
        token = page.token_for(found.next_cursor) if found.next_cursor else ""
        return dc.ListArtifactsResponse(artifacts=found.items, next_token=token)

    async def add_tag(self, tag: dc.Tag, *, overwrite: bool) -> None:
        stored = await self._dataset(tag.dataset)
        outcome = await self._repo.add_tag(stored, tag.name, tag.artifact_id, overwrite=overwrite)
        if outcome is Tag.NO_ARTIFACT:
            raise NotFound(
                f"no artifact {tag.artifact_id} in dataset {describe(tag.dataset)}",
                resource=f"artifact:{describe(tag.dataset)}/{tag.artifact_id}",
                reason="ARTIFACT_NOT_FOUND",
            )
        if outcome is Tag.CONFLICT:
            raise AlreadyExists(
                f"tag {tag.name} already points at another artifact in dataset "
                f"{describe(tag.dataset)} (set overwrite to re-point it)",
                reason="TAG_EXISTS",
            )

    # cache management
    async def list_cache_entries(
        self, request: cache_pb2.ListCacheEntriesRequest
    ) -> cache_pb2.ListCacheEntriesResponse:
        scope = _scope(request.task, request.dataset_version, request.task_version)
        page = page_request("cache", request.pagination, repr(scope).encode())
        found = await self._repo.list_cache_entries(scope, page)
        token = page.token_for(found.next_cursor) if found.next_cursor else ""
        return cache_pb2.ListCacheEntriesResponse(entries=found.items, next_token=token)

    async def evict_entry(self, dataset_id: dc.DatasetID, tag_name: str) -> None:
        if not await self._repo.evict_entry(dataset_id, tag_name):
            raise NotFound(
                f"no cached result tagged {tag_name} in dataset {describe(dataset_id)}",
                resource=f"tag:{describe(dataset_id)}/{tag_name}",
                reason="TAG_NOT_FOUND",
            )
        self._metrics.evictions.inc()

    async def evict_version(self, request: cache_pb2.EvictCacheVersionRequest) -> int:
        scope = _scope(request.task, request.dataset_version, request.task_version)
        count = await self._repo.evict_entries(scope)
        self._metrics.evictions.inc(count)
        return count
