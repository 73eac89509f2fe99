"""Datasets, artifacts, tags and partitions over a real gRPC channel and Postgres."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from skyloom_common.errors import AlreadyExists, InvalidArgument, NotFound
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

from .conftest import Running, artifact, dataset_id, fails, int_literal

pytestmark = pytest.mark.integration


async def test_dataset_round_trip_and_duplicate(catalog: Running) -> None:
    ds = dc.Dataset(
        id=dataset_id(),
        metadata=dc.Metadata(key_map={"owner": "team-a"}),
        partition_keys=["region", "day"],
    )
    await catalog.stub.CreateDataset(dc.CreateDatasetRequest(dataset=ds))

    got = (await catalog.stub.GetDataset(dc.GetDatasetRequest(dataset=dataset_id()))).dataset
    assert (got.id.name, got.id.version) == (ds.id.name, ds.id.version)
    assert got.id.uuid  # server-assigned
    assert dict(got.metadata.key_map) == {"owner": "team-a"}
    assert list(got.partition_keys) == ["region", "day"]

    again = await fails(catalog.stub.CreateDataset(dc.CreateDatasetRequest(dataset=ds)))
    assert isinstance(again, AlreadyExists)
    missing = await fails(catalog.stub.GetDataset(dc.GetDatasetRequest(dataset=dataset_id("v9"))))
    assert isinstance(missing, NotFound)


async def test_artifact_by_id_and_tag_returns_what_was_stored(catalog: Running) -> None:
    ds_id = dataset_id()
    await catalog.stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=ds_id)))
    stored = artifact("a1", ds_id, 42, task_version="v1")
    stored.data.add(name="o1").value.scalar.blob.uri = "s3://bucket/raw/x.parquet"
    await catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=stored))
    tag = dc.Tag(name="t1", artifact_id="a1", dataset=ds_id)
    await catalog.stub.AddTag(dc.AddTagRequest(tag=tag))

    by_id = await catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=ds_id, artifact_id="a1"))
    by_tag = await catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=ds_id, tag_name="t1"))
    for got in (by_id.artifact, by_tag.artifact):
        values = {d.name: d.value for d in got.data}
        assert values["o0"] == int_literal(42)
        assert values["o1"].scalar.blob.uri == "s3://bucket/raw/x.parquet"
        assert dict(got.metadata.key_map) == {"task_version": "v1"}
        assert [t.name for t in got.tags] == ["t1"]
        assert got.created_at.seconds > 0

    dup = await fails(catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=stored)))
    assert isinstance(dup, AlreadyExists)


async def test_tags_are_unique_per_dataset_unless_overwritten(catalog: Running) -> None:
    ds_id = dataset_id()
    await catalog.stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=ds_id)))
    for name, value in (("a1", 1), ("a2", 2)):
        await catalog.stub.CreateArtifact(
            dc.CreateArtifactRequest(artifact=artifact(name, ds_id, value))
        )
    tag = dc.Tag(name="latest", artifact_id="a1", dataset=ds_id)
    await catalog.stub.AddTag(dc.AddTagRequest(tag=tag))
    await catalog.stub.AddTag(dc.AddTagRequest(tag=tag))  # same artifact again: a no-op

    moved = dc.Tag(name="latest", artifact_id="a2", dataset=ds_id)
    conflict = await fails(catalog.stub.AddTag(dc.AddTagRequest(tag=moved)))
    assert isinstance(conflict, AlreadyExists)
    assert conflict.reason == "TAG_EXISTS"
    lookup = dc.GetArtifactRequest(dataset=ds_id, tag_name="latest")
    assert (await catalog.stub.GetArtifact(lookup)).artifact.id == "a1"

    await catalog.stub.AddTag(dc.AddTagRequest(tag=moved, overwrite=True))
    assert (await catalog.stub.GetArtifact(lookup)).artifact.id == "a2"
    # The artifact it pointed at stays, reachable by id.
    old = dc.GetArtifactRequest(dataset=ds_id, artifact_id="a1")
    assert (await catalog.stub.GetArtifact(old)).artifact.id == "a1"

    # The same tag name in another dataset is a different tag.
    other = dataset_id("2-aaaaaaaa-bbbbbbbb")
    await catalog.stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=other)))
    await catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=artifact("a1", other)))
    await catalog.stub.AddTag(
        dc.AddTagRequest(tag=dc.Tag(name="latest", artifact_id="a1", dataset=other))
    )

    no_artifact = dc.Tag(name="x", artifact_id="nope", dataset=ds_id)
    assert isinstance(await fails(catalog.stub.AddTag(dc.AddTagRequest(tag=no_artifact))), NotFound)


async def test_partitions_must_be_declared_by_the_dataset(catalog: Running) -> None:
    ds_id = dataset_id()
    await catalog.stub.CreateDataset(
        dc.CreateDatasetRequest(dataset=dc.Dataset(id=ds_id, partition_keys=["region"]))
    )
    good = artifact("a1", ds_id)
    good.partitions.add(key="region", value="eu-west")
    await catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=good))
    got = await catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=ds_id, artifact_id="a1"))
    assert [(p.key, p.value) for p in got.artifact.partitions] == [("region", "eu-west")]

    bad = artifact("a2", ds_id)
    bad.partitions.add(key="region", value="us")
    bad.partitions.add(key="day", value="2024-01-01")
    error = await fails(catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=bad)))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("artifact.partitions[1].key",)
    missing = await fails(
        catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=ds_id, artifact_id="a2"))
    )
    assert isinstance(missing, NotFound)  # nothing was written


async def test_artifact_in_unknown_dataset_is_not_found(catalog: Running) -> None:
    error = await fails(
        catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=artifact("a1", dataset_id())))
    )
    assert isinstance(error, NotFound)
    assert error.reason == "DATASET_NOT_FOUND"


async def test_unknown_status_is_never_internal(catalog: Running) -> None:
    # A lookup in a dataset that does not exist is a plain miss (NOT_FOUND), not an error.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=dataset_id(), tag_name="t"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_concurrent_taggings_of_one_name_have_one_winner(catalog: Running) -> None:
    ds_id = dataset_id()
    await catalog.stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=ds_id)))
    for i in range(10):
        await catalog.stub.CreateArtifact(
            dc.CreateArtifactRequest(artifact=artifact(f"a{i}", ds_id, i))
        )

    async def tag(artifact_id: str, name: str) -> str:
        request = dc.AddTagRequest(tag=dc.Tag(name=name, artifact_id=artifact_id, dataset=ds_id))
        try:
            await catalog.stub.AddTag(request)
        except grpc.aio.AioRpcError as exc:
            return exc.code().name
        return "OK"

    # Ten attempts that computed different artifacts race for one tag: one wins.
    outcomes = await asyncio.gather(*(tag(f"a{i}", "race") for i in range(10)))
    assert sorted(outcomes) == ["ALREADY_EXISTS"] * 9 + ["OK"]
    winner = await catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=ds_id, tag_name="race"))
    assert winner.artifact.id == f"a{outcomes.index('OK')}"
    # The same artifact tagged concurrently: every call succeeds (a no-op after the first).
    assert await asyncio.gather(*(tag("a0", "same") for _ in range(10))) == ["OK"] * 10
