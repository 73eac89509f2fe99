"""The task cache end to end: keys from skyloom_core.cache_key, put, hit, list, evict."""

from __future__ import annotations

import uuid

import grpc
import pytest

from skyloom_common.errors import AlreadyExists, InvalidArgument, NotFound
from skyloom_core.cache_key import CacheKey, cache_key
from skyloom_idl.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
from skyloom_idl.datacatalog import cache_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc
from skyloom_idl.service.datacatalog_pb2_grpc import DataCatalogServiceStub

from .conftest import Running, fails, int_literal

pytestmark = pytest.mark.integration

TASK = identifier_pb2.NamedEntityIdentifier(project="proj", domain="dev", name="wf.square")


def template(cache_version: str = "1", task_version: str = "v1") -> tasks_pb2.TaskTemplate:
    int_type = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_INTEGER)
    t = tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.ResourceType.RESOURCE_TYPE_TASK,
            project=TASK.project,
            domain=TASK.domain,
            name=TASK.name,
            version=task_version,
        ),
        metadata=tasks_pb2.TaskMetadata(
            cache=tasks_pb2.CacheConfig(enabled=True, version=cache_version)
        ),
    )
    t.interface.inputs.variables["x"].CopyFrom(interface_pb2.Variable(type=int_type))
    t.interface.outputs.variables["o0"].CopyFrom(interface_pb2.Variable(type=int_type))
    return t


def inputs(x: int) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(literals={"x": int_literal(x)})


def ds_id(key: CacheKey) -> dc.DatasetID:
    return dc.DatasetID(project=key.project, domain=key.domain, name=key.name, version=key.version)


async def put(stub: DataCatalogServiceStub, key: CacheKey, output: int, task_version: str) -> str:
    """What propeller does after a successful cacheable attempt."""
    dataset = ds_id(key)
    try:
        await stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=dataset)))
    except grpc.aio.AioRpcError as exc:  # "create if missing"
        if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise
    artifact_id = str(uuid.uuid4())
    await stub.CreateArtifact(
        dc.CreateArtifactRequest(
            artifact=dc.Artifact(
                id=artifact_id,
                dataset=dataset,
                data=[dc.ArtifactData(name="o0", value=int_literal(output))],
                metadata=dc.Metadata(
                    key_map={"task_version": task_version, "source_execution": "exec-1"}
                ),
            )
        )
    )
    tag = dc.Tag(name=key.tag, artifact_id=artifact_id, dataset=dataset)
    await stub.AddTag(dc.AddTagRequest(tag=tag))
    return artifact_id


async def lookup(stub: DataCatalogServiceStub, key: CacheKey) -> dc.Artifact:
    request = dc.GetArtifactRequest(dataset=ds_id(key), tag_name=key.tag)
    return (await stub.GetArtifact(request)).artifact


async def entries(stub: DataCatalogServiceStub, **kw: str) -> list[cache_pb2.CacheEntry]:
    request = cache_pb2.ListCacheEntriesRequest(task=TASK, **kw)
    return list((await stub.ListCacheEntries(request)).entries)


async def test_a_hit_returns_the_original_outputs(catalog: Running) -> None:
    key = cache_key(template(), inputs(3))
    assert isinstance(await fails(lookup(catalog.stub, key)), NotFound)  # cold: a miss
    artifact_id = await put(catalog.stub, key, 9, "v1")

    # Same task, version, interface and inputs — computed again from scratch: a hit.
    hit = await lookup(catalog.stub, cache_key(template(), inputs(3)))
    assert hit.id == artifact_id
    assert [(d.name, d.value) for d in hit.data] == [("o0", int_literal(9))]
    assert hit.metadata.key_map["source_execution"] == "exec-1"

    # Other inputs, or another cache version: misses.
    assert isinstance(await fails(lookup(catalog.stub, cache_key(template(), inputs(4)))), NotFound)
    bumped = cache_key(template(cache_version="2"), inputs(3))
    assert isinstance(await fails(lookup(catalog.stub, bumped)), NotFound)


async def test_eviction_makes_the_next_lookup_a_miss(catalog: Running) -> None:
    key = cache_key(template(), inputs(3))
    other = cache_key(template(), inputs(5))
    artifact_id = await put(catalog.stub, key, 9, "v1")
    await put(catalog.stub, other, 25, "v1")

    await catalog.stub.EvictCacheEntry(
        cache_pb2.EvictCacheEntryRequest(dataset=ds_id(key), tag_name=key.tag)
    )
    assert isinstance(await fails(lookup(catalog.stub, key)), NotFound)
    assert (await lookup(catalog.stub, other)).data[0].value == int_literal(25)  # untouched
    # The artifact went with its only tag.
    by_id = dc.GetArtifactRequest(dataset=ds_id(key), artifact_id=artifact_id)
    assert isinstance(await fails(catalog.stub.GetArtifact(by_id)), NotFound)
    # Evicting it again: NOT_FOUND. Putting it again works (the task reran).
    again = cache_pb2.EvictCacheEntryRequest(dataset=ds_id(key), tag_name=key.tag)
    assert isinstance(await fails(catalog.stub.EvictCacheEntry(again)), NotFound)
    await put(catalog.stub, key, 9, "v1")
    assert (await lookup(catalog.stub, key)).data[0].value == int_literal(9)


async def test_list_cache_entries_of_a_task_newest_first_with_pages(catalog: Running) -> None:
    keys = [cache_key(template(), inputs(x)) for x in range(5)]
    for x, key in enumerate(keys):
        await put(catalog.stub, key, x * x, "v1" if x < 3 else "v2")
    v2 = cache_key(template(cache_version="2"), inputs(0))
    await put(catalog.stub, v2, 0, "v2")

    listed = await entries(catalog.stub)
    assert [e.tag_name for e in listed] == [v2.tag, *(k.tag for k in reversed(keys))]
    assert listed[0].metadata.key_map["task_version"] == "v2"
    assert listed[0].created_at.seconds > 0
    assert [e.tag_name for e in await entries(catalog.stub, dataset_version=v2.version)] == [v2.tag]
    by_task_version = await entries(catalog.stub, task_version="v1")
    assert [e.tag_name for e in by_task_version] == [k.tag for k in reversed(keys[:3])]

    seen: list[str] = []
    token = ""
    while True:
        request = cache_pb2.ListCacheEntriesRequest(
            task=TASK, pagination=dc.PaginationOptions(limit=2, token=token)
        )
        page = await catalog.stub.ListCacheEntries(request)
        assert len(page.entries) <= 2
        seen += [e.tag_name for e in page.entries]
        token = page.next_token
        if not token:
            break
    assert seen == [e.tag_name for e in listed]

    other_task = identifier_pb2.NamedEntityIdentifier(project="proj", domain="dev", name="wf.cube")
    request = cache_pb2.ListCacheEntriesRequest(task=other_task)
    assert list((await catalog.stub.ListCacheEntries(request)).entries) == []


async def test_evict_by_task_version_dataset_version_or_all(catalog: Running) -> None:
    v1_keys = [cache_key(template(), inputs(x)) for x in range(3)]
    for key in v1_keys:
        await put(catalog.stub, key, 1, "v1")
    v2_key = cache_key(template(), inputs(10))
    await put(catalog.stub, v2_key, 100, "v2")
    other_cache = cache_key(template(cache_version="2"), inputs(0))
    await put(catalog.stub, other_cache, 0, "v2")

    def evict(**kw: object) -> cache_pb2.EvictCacheVersionRequest:
        return cache_pb2.EvictCacheVersionRequest(task=TASK, **kw)  # type: ignore[arg-type]

    evicted = await catalog.stub.EvictCacheVersion(evict(task_version="v1"))
    assert evicted.evicted_count == 3
    for key in v1_keys:
        assert isinstance(await fails(lookup(catalog.stub, key)), NotFound)
    assert (await lookup(catalog.stub, v2_key)).data[0].value == int_literal(100)

    again = await catalog.stub.EvictCacheVersion(evict(task_version="v1"))
    assert again.evicted_count == 0  # idempotent

    by_dataset = await catalog.stub.EvictCacheVersion(evict(dataset_version=other_cache.version))
    assert by_dataset.evicted_count == 1
    assert (await lookup(catalog.stub, v2_key)).data[0].value == int_literal(100)

    everything = await catalog.stub.EvictCacheVersion(evict(all_versions=True))
    assert everything.evicted_count == 1
    assert await entries(catalog.stub) == []

    both = await fails(catalog.stub.EvictCacheVersion(evict(all_versions=True, task_version="v1")))
    assert isinstance(both, InvalidArgument)
    assert both.field_paths == ("dataset_version",)
    none = await fails(catalog.stub.EvictCacheVersion(evict()))
    assert isinstance(none, InvalidArgument)


async def test_concurrent_puts_of_the_same_key_keep_one_tag(catalog: Running) -> None:
    key = cache_key(template(), inputs(7))
    await put(catalog.stub, key, 49, "v1")
    # A second attempt that computed the same result loses the tag race: ALREADY_EXISTS,
    # and the first result is what lookups keep returning.
    error = await fails(put(catalog.stub, key, 49, "v1"))
    assert isinstance(error, AlreadyExists)
    assert len(await entries(catalog.stub)) == 1
