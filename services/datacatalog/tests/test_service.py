"""The service as operators see it: metrics, traces, the entry point, a Postgres outage."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import generate_latest

from skyloom_idl.datacatalog import datacatalog_pb2 as dc
from skyloom_idl.service.datacatalog_pb2_grpc import DataCatalogServiceStub
from skyloom_testing.postgres import PostgresServer

from .conftest import Running, artifact, dataset_id, start

pytestmark = pytest.mark.integration

SERVICE_NAME = "skyloom.service.DataCatalogService"


def metric(catalog: Running, line_start: str) -> float:
    text = generate_latest(catalog.app.runtime.registry).decode()
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {line_start}")


async def test_lookups_are_counted_timed_and_traced(catalog: Running) -> None:
    stub = catalog.stub
    ds = dataset_id()
    await stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=ds)))
    await stub.CreateArtifact(dc.CreateArtifactRequest(artifact=artifact("a1", ds)))
    await stub.AddTag(dc.AddTagRequest(tag=dc.Tag(name="hit", artifact_id="a1", dataset=ds)))
    await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, tag_name="hit"))
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, tag_name="miss"))

    assert metric(catalog, 'datacatalog_cache_lookups_total{result="hit"}') == 1
    assert metric(catalog, 'datacatalog_cache_lookups_total{result="miss"}') == 1
    assert metric(catalog, "datacatalog_cache_lookup_seconds_count") == 2
    handled = (
        'grpc_server_handled_total{grpc_code="NOT_FOUND",grpc_method="GetArtifact",'
        f'grpc_service="{SERVICE_NAME}",grpc_type="unary_unary"}}'
    )
    assert metric(catalog, handled) == 1

    lookups = [s for s in catalog.spans.get_finished_spans() if s.name.endswith("/GetArtifact")]
    assert [s.attributes.get("datacatalog.cache.hit") for s in lookups if s.attributes] == [
        True,
        False,
    ]


async def test_reservations_held_gauge_and_outcomes(catalog: Running) -> None:
    rid = dc.ReservationID(dataset_id=dataset_id(), tag_name="t")
    for owner in ("a", "b", "a"):
        await catalog.stub.GetOrExtendReservation(
            dc.GetOrExtendReservationRequest(reservation_id=rid, owner_id=owner)
        )
    await catalog.app.gauge.refresh()
    assert metric(catalog, "datacatalog_reservations_held") == 1
    outcomes = 'datacatalog_reservation_requests_total{{outcome="{}"}}'
    assert metric(catalog, outcomes.format("acquired")) == 1
    assert metric(catalog, outcomes.format("held_by_other")) == 1
    assert metric(catalog, outcomes.format("extended")) == 1
    await catalog.stub.ReleaseReservation(
        dc.ReleaseReservationRequest(reservation_id=rid, owner_id="a")
    )
    await catalog.app.gauge.refresh()
    assert metric(catalog, "datacatalog_reservations_held") == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_serving(target: str, proc: asyncio.subprocess.Process) -> None:
    """Poll health with short calls (grpc's reconnect backoff would make waits long)."""
    request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
    for _ in range(300):
        assert proc.returncode is None, "the service exited"
        async with grpc.aio.insecure_channel(target) as channel:
            try:
                answer = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=0.5)
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.1)
                continue
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        return
    raise TimeoutError("the service did not start serving")


async def test_entry_point_serves_and_stops_cleanly_on_sigterm(
    postgres_dsn: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SKYLOOM_DATACATALOG__POSTGRES__DSN": postgres_dsn,
        "SKYLOOM_DATACATALOG__AUTH__MODE": "disabled",
        "SKYLOOM_DATACATALOG__GRPC__PORT": str(port),
        "SKYLOOM_DATACATALOG__GRPC__DRAIN_SECONDS": "1",
        "SKYLOOM_DATACATALOG__METRICS__PORT": "0",
    }
    script = Path(sys.executable).with_name("skyloom-datacatalog")
    log = tmp_path / "datacatalog.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(script), env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        await wait_serving(f"127.0.0.1:{port}", proc)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = DataCatalogServiceStub(channel)
            ds = dc.Dataset(id=dataset_id())
            await stub.CreateDataset(dc.CreateDatasetRequest(dataset=ds))
            got = await stub.GetDataset(dc.GetDatasetRequest(dataset=dataset_id()))
            assert got.dataset.id.uuid
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, log.read_text()
    except BaseException:
        print(log.read_text())
        raise
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_postgres_outage_is_unavailable_then_recovers(
    postgres_private_server: PostgresServer,
) -> None:
    dsn = postgres_private_server.dsn()
    async for catalog in start(dsn):
        request = dc.GetDatasetRequest(dataset=dataset_id())
        postgres_private_server.crash()
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await catalog.stub.GetDataset(request)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE

        postgres_private_server.start()
        codes: list[grpc.StatusCode] = []
        for _ in range(50):
            try:
                await catalog.stub.GetDataset(request)
            except grpc.aio.AioRpcError as exc:
                codes.append(exc.code())
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    break
                await asyncio.sleep(0.1)
        assert codes[-1] == grpc.StatusCode.NOT_FOUND  # answering from the database again
        assert set(codes) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND}
