"""Bad input (reliability B1, B4, B5, B6): the right status and field path, nothing written,
and the service keeps serving."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from skyloom_common.errors import InvalidArgument, NotFound
from skyloom_idl.core import identifier_pb2, literals_pb2
from skyloom_idl.datacatalog import cache_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc
from skyloom_idl.service import datacatalog_pb2 as service_pb2

from .conftest import Running, artifact, dataset_id, fails, int_literal

pytestmark = pytest.mark.integration

SERVICE = service_pb2.DESCRIPTOR.services_by_name["DataCatalogService"]


def ds(**fields: str) -> dc.DatasetID:
    base = dataset_id()
    for name, value in fields.items():
        setattr(base, name, value)
    return base


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (lengths here stay below 2**14)."""
    length = len(payload)
    varint = bytes([length]) if length < 128 else bytes([(length & 0x7F) | 0x80, length >> 7])
    return bytes([number << 3 | 2]) + varint + payload


def too_deep_request(depth: int) -> bytes:
    """A CreateArtifactRequest whose value nests ``depth`` collections (built as raw bytes:
    the protobuf library itself refuses to build or parse it)."""
    literal = int_literal(1).SerializeToString()
    for _ in range(depth):
        literal = _field(2, _field(1, literal))  # Literal.collection.literals[0]
    data = _field(1, b"o0") + _field(2, literal)  # ArtifactData{name, value}
    art = _field(1, b"a1") + _field(2, dataset_id().SerializeToString()) + _field(3, data)
    return _field(1, art)


def big_artifact() -> dc.Artifact:
    a = artifact("a1", dataset_id())
    a.data.add(name="big").value.scalar.primitive.string_value = "x" * 5000  # limit is 4096
    return a


def case(method: str, request: Message, *paths: str) -> object:
    return pytest.param(method, request, paths, id=f"{method}:{','.join(paths)}")


def create(dataset: dc.Dataset) -> dc.CreateDatasetRequest:
    return dc.CreateDatasetRequest(dataset=dataset)


def create_artifact(art: dc.Artifact) -> dc.CreateArtifactRequest:
    return dc.CreateArtifactRequest(artifact=art)


def one_value(name: str, value: literals_pb2.Literal) -> dc.Artifact:
    return dc.Artifact(
        id="a1", dataset=dataset_id(), data=[dc.ArtifactData(name=name, value=value)]
    )


def reservation(
    owner: str, tag: str = "t", heartbeat: int = 0, **fields: str
) -> dc.GetOrExtendReservationRequest:
    request = dc.GetOrExtendReservationRequest(
        reservation_id=dc.ReservationID(dataset_id=ds(**fields), tag_name=tag), owner_id=owner
    )
    request.heartbeat_interval.seconds = heartbeat
    return request


def one_filter(single: dc.SinglePropertyFilter) -> dc.FilterExpression:
    return dc.FilterExpression(filters=[single])


DATASET_FILTER = dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter(project="p"))
TAG_FILTER = dc.SinglePropertyFilter(tag_filter=dc.TagPropertyFilter(tag_name="t"))
BAD_TASK = identifier_pb2.NamedEntityIdentifier(project="p", domain="d", name="..")

BAD = [
    case("CreateDataset", create(dc.Dataset(id=ds(project="../etc"))), "dataset.id.project"),
    case("CreateDataset", create(dc.Dataset(id=ds(name="a\x00b"))), "dataset.id.name"),
    case("CreateDataset", create(dc.Dataset(id=ds(domain="dev\x07"))), "dataset.id.domain"),
    case("CreateDataset", create(dc.Dataset(id=ds(project="p" * 64))), "dataset.id.project"),
    case(
        "CreateDataset",
        create(dc.Dataset(id=ds(name="", version=""))),
        "dataset.id.name",
        "dataset.id.version",
    ),
    case("CreateDataset", create(dc.Dataset(id=ds(version="v1/../x"))), "dataset.id.version"),
    case("CreateDataset", create(dc.Dataset(id=ds(name="t\u202eexe"))), "dataset.id.name"),
    case(
        "CreateDataset",
        create(dc.Dataset(id=ds(), metadata=dc.Metadata(key_map={"k": "v\x00"}))),
        "dataset.metadata.key_map['k']",
    ),
    case(
        "CreateDataset",
        create(dc.Dataset(id=ds(), partition_keys=["a", "a"])),
        "dataset.partition_keys[1]",
    ),
    case("CreateArtifact", create_artifact(artifact("../../x", dataset_id())), "artifact.id"),
    case(
        "CreateArtifact",
        create_artifact(one_value("o\x00", int_literal(1))),
        "artifact.data[0].name",
    ),
    case("CreateArtifact", create_artifact(big_artifact()), "artifact.data"),
    case("CreateArtifact", create_artifact(dc.Artifact(id="a1", dataset=ds())), "artifact.data"),
    case("GetArtifact", dc.GetArtifactRequest(dataset=ds()), "artifact_id"),
    case("GetArtifact", dc.GetArtifactRequest(dataset=ds(), tag_name="..\\x"), "tag_name"),
    case(
        "AddTag",
        dc.AddTagRequest(tag=dc.Tag(name="t\u202e", artifact_id="a1", dataset=ds())),
        "tag.name",
    ),
    case("GetOrExtendReservation", reservation(""), "owner_id"),
    case("GetOrExtendReservation", reservation("o", tag="a/b"), "reservation_id.tag_name"),
    case("GetOrExtendReservation", reservation("o", heartbeat=-5), "heartbeat_interval"),
    case(
        "ReleaseReservation",
        dc.ReleaseReservationRequest(
            reservation_id=reservation("o", project="A_B").reservation_id, owner_id="o"
        ),
        "reservation_id.dataset_id.project",
    ),
    case(
        "ListArtifacts",
        dc.ListArtifactsRequest(dataset=ds(), filter=one_filter(DATASET_FILTER)),
        "filter.filters[0]",
    ),
    case(
        "ListArtifacts",
        dc.ListArtifactsRequest(dataset=ds(), pagination=dc.PaginationOptions(token="bm90IGEK")),
        "pagination.token",
    ),
    case(
        "ListDatasets", dc.ListDatasetsRequest(filter=one_filter(TAG_FILTER)), "filter.filters[0]"
    ),
    case("ListCacheEntries", cache_pb2.ListCacheEntriesRequest(task=BAD_TASK), "task.name"),
    case(
        "EvictCacheEntry",
        cache_pb2.EvictCacheEntryRequest(dataset=ds(), tag_name=""),
        "tag_name",
    ),
]


async def table_counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        tables = ("datasets", "artifacts", "tags", "partitions", "reservations")
        return {t: await conn.fetchval(f"SELECT count(*) FROM datacatalog.{t}") for t in tables}
    finally:
        await conn.close()


async def still_serving(catalog: Running) -> None:
    health = health_pb2_grpc.HealthStub(catalog.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    await catalog.stub.ListDatasets(dc.ListDatasetsRequest())


async def call(catalog: Running, method: str, request: Message) -> object:
    return await getattr(catalog.stub, method)(request)


@pytest.mark.parametrize(("method", "request_", "paths"), BAD)
async def test_bad_requests_name_the_field_and_write_nothing(
    catalog: Running, method: str, request_: Message, paths: tuple[str, ...]
) -> None:
    # The dataset exists, so only the bad field can be the reason.
    await catalog.stub.CreateDataset(
        dc.CreateDatasetRequest(dataset=dc.Dataset(id=dataset_id(), partition_keys=["region"]))
    )
    before = await table_counts(catalog.dsn)
    error = await fails(call(catalog, method, request_))
    assert isinstance(error, InvalidArgument), error
    assert error.field_paths == paths
    assert await table_counts(catalog.dsn) == before
    await still_serving(catalog)


async def test_unparseable_bytes_are_invalid_argument_on_every_method(catalog: Running) -> None:
    for method in SERVICE.methods:
        raw = catalog.channel.unary_unary(f"/{SERVICE.full_name}/{method.name}")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await raw(b"\x0a\xff\xff\xff\x0f")  # a length-delimited field running off the end
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, method.name
    assert await table_counts(catalog.dsn) == dict.fromkeys(
        ("datasets", "artifacts", "tags", "partitions", "reservations"), 0
    )
    await still_serving(catalog)


async def test_nesting_past_the_parser_limit_is_invalid_argument(catalog: Running) -> None:
    raw = catalog.channel.unary_unary(f"/{SERVICE.full_name}/CreateArtifact")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await raw(too_deep_request(200))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sum((await table_counts(catalog.dsn)).values()) == 0
    await still_serving(catalog)


async def test_a_message_over_the_grpc_limit_is_resource_exhausted(catalog: Running) -> None:
    huge = artifact("a1", dataset_id())
    huge.data.add(name="big").value.scalar.binary.value = b"x" * (5 * 1024 * 1024)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=huge))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert sum((await table_counts(catalog.dsn)).values()) == 0
    await still_serving(catalog)


async def test_unknown_dataset_is_not_found_everywhere(catalog: Running) -> None:
    unknown = dataset_id("no-such-version")
    calls = [
        catalog.stub.GetDataset(dc.GetDatasetRequest(dataset=unknown)),
        catalog.stub.CreateArtifact(dc.CreateArtifactRequest(artifact=artifact("a1", unknown))),
        catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=unknown, artifact_id="a1")),
        catalog.stub.GetArtifact(dc.GetArtifactRequest(dataset=unknown, tag_name="t")),
        catalog.stub.ListArtifacts(dc.ListArtifactsRequest(dataset=unknown)),
        catalog.stub.AddTag(
            dc.AddTagRequest(tag=dc.Tag(name="t", artifact_id="a", dataset=unknown))
        ),
        catalog.stub.EvictCacheEntry(
            cache_pb2.EvictCacheEntryRequest(dataset=unknown, tag_name="t")
        ),
    ]
    for pending in calls:
        assert isinstance(await fails(pending), NotFound)
    assert sum((await table_counts(catalog.dsn)).values()) == 0
    await still_serving(catalog)
