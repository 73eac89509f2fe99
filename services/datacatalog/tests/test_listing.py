"""ListArtifacts and ListDatasets: typed filters, sort order and opaque page tokens."""

from __future__ import annotations

import pytest

from skyloom_common.errors import InvalidArgument
from skyloom_idl.datacatalog import datacatalog_pb2 as dc
from skyloom_idl.service.datacatalog_pb2_grpc import DataCatalogServiceStub

from .conftest import Running, artifact, dataset_id, fails

pytestmark = pytest.mark.integration

Op = dc.SinglePropertyFilter
EQ, NE, PREFIX = (
    Op.COMPARISON_OPERATOR_EQUALS,
    Op.COMPARISON_OPERATOR_NOT_EQUALS,
    Op.COMPARISON_OPERATOR_PREFIX,
)


def tag_is(name: str, op: int = EQ) -> dc.SinglePropertyFilter:
    return dc.SinglePropertyFilter(tag_filter=dc.TagPropertyFilter(tag_name=name), operator=op)


def partition_is(key: str, value: str, op: int = EQ) -> dc.SinglePropertyFilter:
    kv = dc.Partition(key=key, value=value)
    return dc.SinglePropertyFilter(
        partition_filter=dc.PartitionPropertyFilter(key_val=kv), operator=op
    )


def id_is(artifact_id: str, op: int = EQ) -> dc.SinglePropertyFilter:
    return dc.SinglePropertyFilter(
        artifact_filter=dc.ArtifactPropertyFilter(artifact_id=artifact_id), operator=op
    )


async def ids(stub: DataCatalogServiceStub, *filters: dc.SinglePropertyFilter) -> list[str]:
    request = dc.ListArtifactsRequest(
        dataset=dataset_id(), filter=dc.FilterExpression(filters=filters)
    )
    return [a.id for a in (await stub.ListArtifacts(request)).artifacts]


@pytest.fixture
async def populated(catalog: Running) -> Running:
    """a0..a5 (created in that order); region eu for even, us for odd; tags t-a<i> on a0..a3,
    and "latest" on a3."""
    stub = catalog.stub
    ds = dc.Dataset(id=dataset_id(), partition_keys=["region"])
    await stub.CreateDataset(dc.CreateDatasetRequest(dataset=ds))
    for i in range(6):
        art = artifact(f"a{i}", dataset_id(), i)
        art.partitions.add(key="region", value="eu" if i % 2 == 0 else "us")
        await stub.CreateArtifact(dc.CreateArtifactRequest(artifact=art))
        if i < 4:
            tag = dc.Tag(name=f"t-a{i}", artifact_id=f"a{i}", dataset=dataset_id())
            await stub.AddTag(dc.AddTagRequest(tag=tag))
    latest = dc.Tag(name="latest", artifact_id="a3", dataset=dataset_id())
    await stub.AddTag(dc.AddTagRequest(tag=latest))
    return catalog


async def test_filters_on_tags_partitions_and_ids(populated: Running) -> None:
    stub = populated.stub
    assert await ids(stub) == ["a5", "a4", "a3", "a2", "a1", "a0"]  # newest first
    assert await ids(stub, tag_is("latest")) == ["a3"]
    assert await ids(stub, tag_is("t-a", PREFIX)) == ["a3", "a2", "a1", "a0"]
    assert await ids(stub, tag_is("latest", NE)) == ["a5", "a4", "a2", "a1", "a0"]
    assert await ids(stub, partition_is("region", "eu")) == ["a4", "a2", "a0"]
    assert await ids(stub, partition_is("region", "eu", NE)) == ["a5", "a3", "a1"]
    assert await ids(stub, partition_is("region", "e", PREFIX), tag_is("t-a", PREFIX)) == [
        "a2",
        "a0",
    ]
    assert await ids(stub, id_is("a1")) == ["a1"]
    assert await ids(stub, id_is("a1", NE), partition_is("region", "us")) == ["a5", "a3"]
    # A value that would be a LIKE wildcard is taken literally.
    assert await ids(stub, tag_is("%", PREFIX)) == []
    listed = await stub.ListArtifacts(dc.ListArtifactsRequest(dataset=dataset_id()))
    a3 = next(a for a in listed.artifacts if a.id == "a3")
    assert sorted(t.name for t in a3.tags) == ["latest", "t-a3"]
    assert [(p.key, p.value) for p in a3.partitions] == [("region", "us")]


async def test_pages_cover_everything_once_in_both_orders(populated: Running) -> None:
    stub = populated.stub
    for order, expected in (
        (dc.PaginationOptions.SORT_ORDER_DESCENDING, ["a5", "a4", "a3", "a2", "a1", "a0"]),
        (dc.PaginationOptions.SORT_ORDER_ASCENDING, ["a0", "a1", "a2", "a3", "a4", "a5"]),
    ):
        seen: list[str] = []
        token = ""
        pages = 0
        while True:
            page = await stub.ListArtifacts(
                dc.ListArtifactsRequest(
                    dataset=dataset_id(),
                    pagination=dc.PaginationOptions(limit=4, token=token, sort_order=order),
                )
            )
            seen += [a.id for a in page.artifacts]
            pages += 1
            token = page.next_token
            if not token:
                break
        assert seen == expected
        assert pages == 2


async def test_a_token_is_only_valid_for_its_own_query(populated: Running) -> None:
    stub = populated.stub
    first = await stub.ListArtifacts(
        dc.ListArtifactsRequest(dataset=dataset_id(), pagination=dc.PaginationOptions(limit=2))
    )
    assert first.next_token
    changed = dc.ListArtifactsRequest(
        dataset=dataset_id(),
        filter=dc.FilterExpression(filters=[tag_is("latest")]),
        pagination=dc.PaginationOptions(limit=2, token=first.next_token),
    )
    error = await fails(stub.ListArtifacts(changed))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("pagination.token",)


async def test_list_datasets_by_property(catalog: Running) -> None:
    stub = catalog.stub
    for name, version in (("skyloom_task-a", "1-x"), ("skyloom_task-a", "2-x"), ("other", "1-x")):
        ds = dc.Dataset(id=dataset_id(version=version, name=name))
        await stub.CreateDataset(dc.CreateDatasetRequest(dataset=ds))

    async def names(*filters: dc.SinglePropertyFilter, limit: int = 0) -> list[str]:
        request = dc.ListDatasetsRequest(
            filter=dc.FilterExpression(filters=filters),
            pagination=dc.PaginationOptions(
                limit=limit, sort_order=dc.PaginationOptions.SORT_ORDER_ASCENDING
            ),
        )
        answer = await stub.ListDatasets(request)
        return [f"{d.id.name}@{d.id.version}" for d in answer.datasets]

    def prop(op: int = EQ, **kw: str) -> dc.SinglePropertyFilter:
        return dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter(**kw), operator=op)

    assert await names() == ["skyloom_task-a@1-x", "skyloom_task-a@2-x", "other@1-x"]
    assert await names(prop(name="skyloom_task-a")) == ["skyloom_task-a@1-x", "skyloom_task-a@2-x"]
    assert await names(prop(PREFIX, name="skyloom_task-"), prop(version="2-x")) == [
        "skyloom_task-a@2-x"
    ]
    assert await names(prop(NE, project="proj")) == []
    assert await names(limit=1) == ["skyloom_task-a@1-x"]
