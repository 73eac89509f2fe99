"""CreateExecution/s with p50/p99 beside a bare grpc.aio echo measured in the same run.

    uv run --frozen --no-sync python bench/admin/bench_create_execution.py \
        [--seconds 10] [--clients 16] [--no-fsync]

Starts Postgres (embedded, fsync off) and NATS (sync_interval always), runs admin in a
child process (auth disabled, file:// data store), registers a project, a task, a workflow and a
launch plan, then ``--clients`` concurrent clients call CreateExecution back to back for
``--seconds`` (each call: two transactions, one blob write of inputs.pb, one outbox row; the
relay publishes the work items meanwhile). The floor is a bare grpc.aio unary echo server
called the same way from the same process. Not run by ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import grpc
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
from _servers import percentile, servers

from skyloom_admin import AdminSection, AdminSettings, open_admin
from skyloom_common.config import (
    AuthSettings,
    BlobStoreSettings,
    GrpcSettings,
    MetricsSettings,
    NatsSettings,
    PostgresSettings,
)
from skyloom_common.runtime import ServiceRuntime
from skyloom_core.blob import BlobSettings, FileSettings, store_for
from skyloom_core.build import int_literal, literal_map
from skyloom_idl.admin import (
    execution_pb2,
    launch_plan_pb2,
    project_pb2,
    task_pb2,
    workflow_pb2,
)
from skyloom_idl.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
from skyloom_idl.core import workflow_pb2 as core_wf
from skyloom_idl.service.admin_pb2_grpc import AdminServiceStub

RT = identifier_pb2.ResourceType
_COUNTER = [0]
INT = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_INTEGER)


def ident(kind: int, name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=kind,
        project="bench",
        domain="development",
        name=name,
        version="v1",  # type: ignore[arg-type]
    )


def variables() -> interface_pb2.VariableMap:
    return interface_pb2.VariableMap(variables={"x": interface_pb2.Variable(type=INT)}, order=["x"])


async def register(stub: AdminServiceStub) -> identifier_pb2.Identifier:
    await stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=project_pb2.Project(id="bench"))
    )
    iface = interface_pb2.TypedInterface(inputs=variables(), outputs=interface_pb2.VariableMap())
    task = tasks_pb2.TaskTemplate(
        id=ident(RT.RESOURCE_TYPE_TASK, "t"), type="python", interface=iface,
        container=tasks_pb2.Container(image="python:3.11", args=["run"]),
    )  # fmt: skip
    await stub.CreateTask(
        task_pb2.CreateTaskRequest(id=task.id, spec=task_pb2.TaskSpec(template=task))
    )
    promise = types_pb2.OutputReference(node_id="start-node", var="x")
    node = core_wf.Node(
        id="n0", task_node=core_wf.TaskNode(reference_id=task.id),
        inputs=[literals_pb2.Binding(var="x", binding=literals_pb2.BindingData(promise=promise))],
    )  # fmt: skip
    wf = core_wf.WorkflowTemplate(
        id=ident(RT.RESOURCE_TYPE_WORKFLOW, "wf"), interface=iface, nodes=[node]
    )
    await stub.CreateWorkflow(
        workflow_pb2.CreateWorkflowRequest(id=wf.id, spec=workflow_pb2.WorkflowSpec(template=wf))
    )
    lp = ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "lp")
    await stub.CreateLaunchPlan(
        launch_plan_pb2.CreateLaunchPlanRequest(
            id=lp, spec=launch_plan_pb2.LaunchPlanSpec(workflow_id=wf.id)
        )
    )
    return lp


async def drive(call: object, clients: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = _COUNTER

    async def client() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await call(counter)  # type: ignore[operator]
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), latencies


def report(label: str, count: int, latencies: list[float], seconds: float) -> None:
    print(
        f"{label:<34} {count / seconds:8.0f}/s   p50 {percentile(latencies, 0.5) * 1000:6.2f} ms"
        f"   p99 {percentile(latencies, 0.99) * 1000:6.2f} ms   (n={count})"
    )


async def echo_floor(clients: int, seconds: float) -> None:
    def handler(request: bytes, context: object) -> bytes:
        return request

    async def unary(request: bytes, context: object) -> bytes:
        return request

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(unary)}
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        echo = channel.unary_unary("/bench.Echo/Echo")
        payload = b"x" * 200

        async def call(counter: list[int]) -> None:
            await echo(payload)

        count, latencies = await drive(call, clients, seconds)
    await server.stop(None)
    report("floor: bare grpc.aio echo", count, latencies, seconds)


def settings_for(dsn: str, nats_url: str) -> AdminSettings:
    return AdminSettings(
        auth=AuthSettings(mode="disabled"),
        grpc=GrpcSettings(port=0, drain_seconds=1),
        metrics=MetricsSettings(enabled=False),
        postgres=PostgresSettings(dsn=SecretStr(dsn), pool_max_size=20),
        nats=NatsSettings(url=nats_url),
        blob=BlobStoreSettings(),
        admin=AdminSection(),
    )


async def serve(dsn: str, nats_url: str, data_dir: str, port_file: str, fsync: bool) -> None:
    """The child: admin alone in its process, until killed."""
    settings = settings_for(dsn, nats_url)
    runtime = ServiceRuntime.from_settings("admin", settings, configure_logs=False)
    blob_settings = BlobSettings(file=FileSettings(fsync=fsync))
    async with (
        store_for(f"file://{data_dir}", blob_settings) as data,
        open_admin(settings, runtime=runtime, data_store=data, upload_store=data) as app,
    ):
        task = asyncio.create_task(app.service.run())
        while True:
            try:
                port = app.grpc.port
                break
            except RuntimeError:
                await asyncio.sleep(0.01)
        Path(port_file).write_text(str(port))  # noqa: ASYNC240 - once, at start-up
        await task


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--no-fsync", action="store_true", help="file:// store without fsync (inputs.pb)"
    )
    args = parser.parse_args()
    async with servers() as (dsn, nats_url, base):
        port_file = base / "port"
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", dsn, nats_url, str(base / "data"),
            str(port_file), "0" if args.no_fsync else "1",
        )  # fmt: skip
        try:
            while not port_file.exists():  # noqa: ASYNC110 - a file, not an event
                await asyncio.sleep(0.05)
            await run_bench(f"127.0.0.1:{port_file.read_text()}", args)
        finally:
            child.kill()
            await child.wait()


async def run_bench(target: str, args: argparse.Namespace) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = AdminServiceStub(channel)
        lp = await register(stub)
        spec = execution_pb2.ExecutionSpec(launch_plan=lp)
        inputs = literal_map({"x": int_literal(1)})

        async def call(counter: list[int]) -> None:
            counter[0] += 1
            await stub.CreateExecution(
                execution_pb2.CreateExecutionRequest(
                    project="bench",
                    domain="development",
                    name=f"e{counter[0]}",
                    spec=spec,
                    inputs=inputs,
                )
            )

        await drive(call, args.clients, 1.0)  # warm-up
        count, latencies = await drive(call, args.clients, args.seconds)
    label = f"CreateExecution ({args.clients} clients{', no fsync' if args.no_fsync else ''})"
    report(label, count, latencies, args.seconds)
    await echo_floor(args.clients, args.seconds)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--serve":
        asyncio.run(serve(*sys.argv[2:6], fsync=sys.argv[6] == "1"))
    else:
        asyncio.run(main())
