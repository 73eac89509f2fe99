"""Cache-lookup latency of the datacatalog under 100 concurrent clients, beside a bare asyncpg
primary-key lookup of the same tag measured in the same run.

    uv run --frozen --no-sync python bench/datacatalog/bench_lookup.py [--rate 500] [--seconds 10]

It starts its own Postgres (skyloom_testing's embedded server, fsync off) and the datacatalog
as a separate process through its real entry point (``skyloom-datacatalog``), fills one
task-cache dataset with ``--entries`` cached results, then runs, for each of
"datacatalog GetArtifact by tag (gRPC)" and "bare asyncpg PK lookup":

* paced: ``--clients`` tasks together issuing ``--rate`` lookups/s for ``--seconds``; latency
  is measured from each request's *scheduled* start, so a stall is not hidden by sending late;
* saturated: the same clients back to back for ``--seconds``, to show the ceiling.

Clients and the bare lookups share this process; the service has its own. Not run by
``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from skyloom_idl.core import literals_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc
from skyloom_idl.service.datacatalog_pb2_grpc import DataCatalogServiceStub
from skyloom_testing.postgres import PostgresServer

DATASET = dc.DatasetID(
    project="bench", domain="dev", name="skyloom_task-bench.square", version="1-0a1b2c3d-4e5f6a7b"
)
SERVICE = "skyloom.service.DataCatalogService"
Lookup = Callable[[str], Awaitable[object]]


@dataclass
class Result:
    label: str
    mode: str
    latencies: list[float]
    seconds: float
    cpu_ms: dict[str, float]  # CPU milliseconds per lookup, by process group

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        rate = len(self.latencies) / self.seconds
        cpu = " ".join(f"{k}={v:.2f}" for k, v in self.cpu_ms.items())
        return (
            f"{self.label:<31} {self.mode:<9} {len(self.latencies):>6} {rate:>6.0f} "
            f"{self.quantile(0.5):>7.2f} {self.quantile(0.99):>7.2f} "
            f"{statistics.fmean(self.latencies) * 1000:>7.2f}  {cpu}"
        )


class CpuMeter:
    """CPU seconds used by this process, the service and Postgres (all their threads)."""

    def __init__(self, service_pid: int, postmaster_pid: int) -> None:
        self._groups = {
            "client": lambda: [psutil.Process()],
            "service": lambda: [psutil.Process(service_pid)],
            "postgres": lambda: [
                psutil.Process(postmaster_pid),
                *psutil.Process(postmaster_pid).children(),
            ],
        }

    def sample(self) -> dict[str, float]:
        out = {}
        for name, procs in self._groups.items():
            total = 0.0
            for proc in procs():
                try:
                    times = proc.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    pass
            out[name] = total
        return out

    @staticmethod
    def per_lookup(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
        return {k: (after[k] - before[k]) * 1000 / max(n, 1) for k in before}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_service(dsn: str, log: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {
        **os.environ,
        "SKYLOOM_DATACATALOG__POSTGRES__DSN": dsn,
        "SKYLOOM_DATACATALOG__POSTGRES__POOL_MAX_SIZE": "10",
        "SKYLOOM_DATACATALOG__AUTH__MODE": "disabled",
        "SKYLOOM_DATACATALOG__GRPC__PORT": str(port),
        "SKYLOOM_DATACATALOG__METRICS__PORT": "0",
        "SKYLOOM_DATACATALOG__LOGGING__LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).with_name("skyloom-datacatalog"))]
    if profile := os.environ.get("BENCH_PROFILE"):  # a cProfile dump of the service
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "skyloom_datacatalog"]
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*command, env=env, stdout=out, stderr=out)
    target = f"127.0.0.1:{port}"
    request = health_pb2.HealthCheckRequest(service=SERVICE)
    for _ in range(300):
        if proc.returncode is not None:
            raise RuntimeError(f"datacatalog exited; see {log}")
        async with grpc.aio.insecure_channel(target) as channel:
            try:
                await health_pb2_grpc.HealthStub(channel).Check(request, timeout=0.5)
                return proc, target
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.1)
    raise TimeoutError("datacatalog did not start")


async def fill(stub: DataCatalogServiceStub, entries: int) -> list[str]:
    await stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=DATASET)))
    tags = []
    for i in range(entries):
        artifact_id = str(uuid.uuid4())
        value = literals_pb2.Literal(
            scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=i * i))
        )
        await stub.CreateArtifact(
            dc.CreateArtifactRequest(
                artifact=dc.Artifact(
                    id=artifact_id,
                    dataset=DATASET,
                    data=[dc.ArtifactData(name="o0", value=value)],
                    metadata=dc.Metadata(key_map={"task_version": "v1", "source_execution": "e"}),
                )
            )
        )
        tag = f"skyloom_cached-{uuid.uuid5(uuid.NAMESPACE_URL, str(i)).hex}{i:032x}"
        await stub.AddTag(
            dc.AddTagRequest(tag=dc.Tag(name=tag, artifact_id=artifact_id, dataset=DATASET))
        )
        tags.append(tag)
    return tags


async def paced(
    lookup: Lookup, tags: list[str], clients: int, rate: float, seconds: float
) -> list[float]:
    interval = clients / rate  # each client's period
    start = time.perf_counter() + 0.1
    latencies: list[float] = []

    async def client(i: int) -> None:
        rng = random.Random(i)
        k = 0
        while True:
            scheduled = start + i * interval / clients + k * interval
            if scheduled - start >= seconds:
                return
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await lookup(rng.choice(tags))
            latencies.append(time.perf_counter() - scheduled)
            k += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies


async def saturated(lookup: Lookup, tags: list[str], clients: int, seconds: float) -> list[float]:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []

    async def client(i: int) -> None:
        rng = random.Random(i)
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await lookup(rng.choice(tags))
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies


async def bench(args: argparse.Namespace) -> list[Result]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-datacatalog-"))
    server = PostgresServer(workdir / "pg")
    server.start()
    proc = None
    channels: list[grpc.aio.Channel] = []
    try:
        dsn = server.dsn(await server.create_database("bench"))
        proc, target = await start_service(dsn, workdir / "datacatalog.log")
        channels = [grpc.aio.insecure_channel(target) for _ in range(args.channels)]
        assert server.postmaster_pid is not None
        meter = CpuMeter(proc.pid, server.postmaster_pid)
        stubs = [DataCatalogServiceStub(c) for c in channels]
        tags = await fill(stubs[0], args.entries)
        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        dataset_pk = await pool.fetchval(
            "SELECT id FROM datacatalog.datasets WHERE project = $1 AND domain = $2"
            " AND name = $3 AND version = $4",
            DATASET.project, DATASET.domain, DATASET.name, DATASET.version,
        )  # fmt: skip
        turn = 0

        async def via_service(tag: str) -> object:
            nonlocal turn
            turn += 1
            stub = stubs[turn % len(stubs)]
            request = dc.GetArtifactRequest(dataset=DATASET, tag_name=tag)
            return await stub.GetArtifact(request)

        async def bare(tag: str) -> object:
            return await pool.fetchrow(
                "SELECT artifact_id FROM datacatalog.tags WHERE dataset_id = $1 AND tag_name = $2",
                dataset_pk,
                tag,
            )

        results: list[Result] = []
        for label, lookup in (
            ("datacatalog GetArtifact by tag", via_service),
            ("bare asyncpg PK lookup", bare),
        ):
            await saturated(lookup, tags, args.clients, 1.0)  # warm up
            before = meter.sample()
            lat = await paced(lookup, tags, args.clients, args.rate, args.seconds)
            cpu = meter.per_lookup(before, meter.sample(), len(lat))
            results.append(Result(label, f"{args.rate:.0f}/s", lat, args.seconds, cpu))
            before = meter.sample()
            lat = await saturated(lookup, tags, args.clients, args.seconds)
            cpu = meter.per_lookup(before, meter.sample(), len(lat))
            results.append(Result(label, "saturated", lat, args.seconds, cpu))
        await pool.close()
        return results
    finally:
        for channel in channels:
            await channel.close()
        if proc is not None and proc.returncode is None:
            proc.terminate()
            await proc.wait()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent client tasks")
    parser.add_argument("--channels", type=int, default=10, help="gRPC channels they share")
    parser.add_argument("--rate", type=float, default=500.0, help="paced lookups per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--entries", type=int, default=1000, help="cached results to look up")
    args = parser.parse_args()
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = asyncio.run(bench(args))
    print(
        f"cpus={os.cpu_count()} clients={args.clients} channels={args.channels} "
        f"entries={args.entries} seconds={args.seconds}"
    )
    header = ("lookup", "mode", "n", "per s", "p50 ms", "p99 ms", "mean ms")
    print("{:<31} {:<9} {:>6} {:>6} {:>7} {:>7} {:>7}  cpu ms per lookup".format(*header))
    for r in results:
        print(r.row())
    by = {(r.label.split()[0], r.mode): r for r in results}
    for mode in (f"{args.rate:.0f}/s", "saturated"):
        svc, raw = by[("datacatalog", mode)], by[("bare", mode)]
        print(
            f"ratio datacatalog/bare ({mode}): p50 {svc.quantile(0.5) / raw.quantile(0.5):.1f}x, "
            f"p99 {svc.quantile(0.99) / raw.quantile(0.99):.1f}x"
        )


if __name__ == "__main__":
    main()
