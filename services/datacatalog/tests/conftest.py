"""A real datacatalog (its own Postgres database, a real gRPC server on port 0) per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

import grpc
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from skyloom_common.config import AuthSettings, GrpcSettings, MetricsSettings, PostgresSettings
from skyloom_common.errors import SkyloomError
from skyloom_common.rpc import error_from_rpc_error
from skyloom_common.runtime import ServiceRuntime
from skyloom_datacatalog import CatalogSettings, Datacatalog, DatacatalogSettings, open_datacatalog
from skyloom_idl.core import literals_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc
from skyloom_idl.service.datacatalog_pb2_grpc import DataCatalogServiceStub

T = TypeVar("T")


def settings_for(dsn: str, **catalog: object) -> DatacatalogSettings:
    return DatacatalogSettings(
        auth=AuthSettings(mode="disabled"),
        grpc=GrpcSettings(port=0, drain_seconds=0.3),
        metrics=MetricsSettings(port=0),
        postgres=PostgresSettings(dsn=SecretStr(dsn), pool_max_size=20),
        catalog=CatalogSettings.model_validate(catalog),
    )


@dataclass
class Running:
    app: Datacatalog
    channel: grpc.aio.Channel
    stub: DataCatalogServiceStub
    spans: InMemorySpanExporter
    dsn: str


async def wait_bound(app: Datacatalog) -> None:
    for _ in range(500):
        try:
            app.grpc.port  # noqa: B018 - raises until the server is bound
            return
        except RuntimeError:
            await asyncio.sleep(0.01)
    raise TimeoutError("datacatalog did not start")


async def start(dsn: str, **catalog: object) -> AsyncIterator[Running]:
    settings = settings_for(dsn, **catalog)
    spans = InMemorySpanExporter()
    runtime = ServiceRuntime.from_settings(
        "datacatalog", settings, configure_logs=False, span_exporter=spans
    )
    async with open_datacatalog(settings, runtime=runtime) as app:
        task = asyncio.create_task(app.service.run())
        try:
            await wait_bound(app)
            async with grpc.aio.insecure_channel(app.grpc.target) as channel:
                yield Running(app, channel, DataCatalogServiceStub(channel), spans, dsn)
        finally:
            app.service.request_stop()
            await task


@pytest.fixture
async def catalog(postgres_dsn: str) -> AsyncIterator[Running]:
    """A running datacatalog with short reservation timings (heartbeat ≤ 0.5 s, grace 2)."""
    async for running in start(
        postgres_dsn,
        default_heartbeat_seconds=0.2,
        max_heartbeat_seconds=0.5,
        heartbeat_grace_multiplier=2.0,
        reservation_gauge_seconds=0.05,
        max_inline_bytes=4096,
    ):
        yield running


async def fails(call: Awaitable[object]) -> SkyloomError:
    """The domain error a call failed with (the test fails if it succeeded)."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return error_from_rpc_error(exc)
    raise AssertionError("the call succeeded")


def dataset_id(
    version: str = "1-aaaaaaaa-bbbbbbbb", name: str = "skyloom_task-wf.t"
) -> dc.DatasetID:
    return dc.DatasetID(project="proj", domain="dev", name=name, version=version)


def int_literal(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value))
    )


def artifact(artifact_id: str, ds: dc.DatasetID, value: int = 1, **metadata: str) -> dc.Artifact:
    return dc.Artifact(
        id=artifact_id,
        dataset=ds,
        data=[dc.ArtifactData(name="o0", value=int_literal(value))],
        metadata=dc.Metadata(key_map=metadata),
    )
