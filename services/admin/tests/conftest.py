"""A real admin per test: its own Postgres database, a fresh NATS JetStream server, a file://
data store (and SeaweedFS S3 for uploads where asked), the gRPC server on port 0, auth ON.

Fixtures (shared by every admin test module; append new ones at the end):

- ``admin`` — :class:`Running`: ``stub`` acts as the bootstrap platform admin,
  ``stub_as(token)`` gives a stub sending another bearer token (``None``: no header),
  ``app.ctx`` is the :class:`~skyloom_admin.AppContext` (pool, js, outbox, managers),
  ``db`` an asyncpg connection to the same database (search_path = admin schema).
- ``admin_s3`` — the same, with upload locations on this test's S3 bucket.
- ``project`` — a registered project id (``proj``) in ``admin``.
- helpers: :func:`fails` (the domain error a call failed with), :func:`task_template`,
  :func:`workflow_template`, :func:`register_task`, :func:`register_workflow`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from skyloom_admin import Admin, AdminSection, AdminSettings, open_admin
from skyloom_common.config import (
    AuthSettings,
    BlobStoreSettings,
    GrpcSettings,
    MetricsSettings,
    NatsSettings,
    PostgresSettings,
)
from skyloom_common.errors import SkyloomError
from skyloom_common.rpc import error_from_rpc_error
from skyloom_common.runtime import ServiceRuntime
from skyloom_core.blob import BlobSettings, BlobStore, S3Settings, store_for
from skyloom_idl.admin import project_pb2, task_pb2, workflow_pb2
from skyloom_idl.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
from skyloom_idl.core import workflow_pb2 as core_wf
from skyloom_idl.service.admin_pb2_grpc import AdminServiceStub
from skyloom_testing.s3 import S3Bucket

BOOTSTRAP = "bootstrap-" + "b" * 40
PROJECT = "proj"
DOMAIN = "development"
RT = identifier_pb2.ResourceType


class _AuthHeader(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, token: str | None) -> None:
        self._token = token

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        if self._token is not None:
            metadata = [*(details.metadata or []), ("authorization", f"Bearer {self._token}")]
            details = details._replace(metadata=metadata)
        return await continuation(details, request)


@dataclass
class Running:
    app: Admin
    stub: AdminServiceStub
    db: asyncpg.Connection
    dsn: str
    spans: InMemorySpanExporter
    _channels: list[grpc.aio.Channel] = field(default_factory=list)

    @property
    def target(self) -> str:
        return self.app.grpc.target

    def stub_as(self, token: str | None) -> AdminServiceStub:
        """A stub sending ``Bearer <token>`` (no authorization header when ``None``)."""
        channel = grpc.aio.insecure_channel(self.target, interceptors=[_AuthHeader(token)])
        self._channels.append(channel)
        return AdminServiceStub(channel)

    async def raw(self, method: str, payload: bytes, token: str | None = BOOTSTRAP) -> bytes:
        """Call ``/skyloom.service.AdminService/<method>`` with raw request bytes."""
        channel = grpc.aio.insecure_channel(self.target, interceptors=[_AuthHeader(token)])
        self._channels.append(channel)
        call = channel.unary_unary(
            f"/skyloom.service.AdminService/{method}",
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw,
        )
        result: bytes = await call(payload)
        return result

    async def count(self, table: str, where: str = "true", *args: object) -> int:
        return int(await self.db.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args))


def admin_settings(dsn: str, nats_url: str, **admin: object) -> AdminSettings:
    return AdminSettings(
        auth=AuthSettings(mode="static_token", static_tokens={"root": SecretStr(BOOTSTRAP)}),
        grpc=GrpcSettings(port=0, drain_seconds=1),
        metrics=MetricsSettings(enabled=False),
        postgres=PostgresSettings(dsn=SecretStr(dsn), pool_max_size=10),
        nats=NatsSettings(url=nats_url),
        blob=BlobStoreSettings(),
        admin=AdminSection.model_validate(admin),
    )


async def start(
    settings: AdminSettings, *, data_store: BlobStore, upload_store: BlobStore | None = None
) -> AsyncIterator[Running]:
    spans = InMemorySpanExporter()
    runtime = ServiceRuntime.from_settings(
        "admin", settings, configure_logs=False, span_exporter=spans
    )
    assert settings.postgres.dsn is not None
    dsn = settings.postgres.dsn.get_secret_value()
    async with open_admin(
        settings, runtime=runtime, data_store=data_store, upload_store=upload_store or data_store
    ) as app:
        task = asyncio.create_task(app.service.run())
        db = await asyncpg.connect(dsn, server_settings={"search_path": settings.admin.schema_name})
        running = Running(
            app, AdminServiceStub(grpc.aio.insecure_channel("unused")), db, dsn, spans
        )
        try:
            for _ in range(500):
                try:
                    app.grpc.port  # noqa: B018 - raises until bound
                    break
                except RuntimeError:
                    await asyncio.sleep(0.01)
            running.stub = running.stub_as(BOOTSTRAP)
            yield running
        finally:
            for channel in running._channels:
                await channel.close()
            await db.close()
            app.service.request_stop()
            await task


@pytest.fixture
async def admin(postgres_dsn: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with store_for(f"file://{tmp_path}/data") as data:
        async for running in start(admin_settings(postgres_dsn, nats_url), data_store=data):
            yield running


@pytest.fixture
async def admin_s3(
    postgres_dsn: str, nats_url: str, tmp_path: Path, s3_bucket: S3Bucket
) -> AsyncIterator[Running]:
    creds = s3_bucket.credentials
    s3 = S3Settings(
        endpoint_url=creds.endpoint_url,
        region=creds.region,
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        max_attempts=2,
    )
    async with (
        store_for(f"file://{tmp_path}/data") as data,
        store_for(f"{s3_bucket.uri}/uploads", BlobSettings(s3=s3)) as uploads,
    ):
        settings = admin_settings(postgres_dsn, nats_url)
        async for running in start(settings, data_store=data, upload_store=uploads):
            yield running


@pytest.fixture
async def project(admin: Running) -> str:
    await admin.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=project_pb2.Project(id=PROJECT))
    )
    return PROJECT


async def fails(call: Awaitable[object]) -> SkyloomError:
    """The domain error a call failed with (the test fails if it succeeded)."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return error_from_rpc_error(exc)
    raise AssertionError("the call succeeded")


def ident(
    kind: int, name: str, version: str = "v1", project: str = PROJECT
) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=kind,  # type: ignore[arg-type]
        project=project,
        domain=DOMAIN,
        name=name,
        version=version,
    )


INT = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_INTEGER)
STR = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_STRING)
DATETIME = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_DATETIME)


def variables(**types: types_pb2.LiteralType) -> interface_pb2.VariableMap:
    return interface_pb2.VariableMap(
        variables={k: interface_pb2.Variable(type=t) for k, t in types.items()}, order=list(types)
    )


def task_template(
    name: str = "t.double", version: str = "v1", **inputs: types_pb2.LiteralType
) -> tasks_pb2.TaskTemplate:
    return tasks_pb2.TaskTemplate(
        id=ident(RT.RESOURCE_TYPE_TASK, name, version),
        type="python",
        interface=interface_pb2.TypedInterface(
            inputs=variables(**(inputs or {"x": INT})), outputs=variables(o0=INT)
        ),
        container=tasks_pb2.Container(image="python:3.11", args=["run"]),
    )


def workflow_template(
    name: str = "wf", version: str = "v1", task: str = "t.double", **inputs: types_pb2.LiteralType
) -> core_wf.WorkflowTemplate:
    """``wf(x: int) -> int``: one node ``n0`` running ``task`` on ``x``."""
    node = core_wf.Node(
        id="n0",
        task_node=core_wf.TaskNode(reference_id=ident(RT.RESOURCE_TYPE_TASK, task, "v1")),
        inputs=[
            literals_pb2.Binding(
                var="x",
                binding=literals_pb2.BindingData(
                    promise=types_pb2.OutputReference(node_id="start-node", var="x")
                ),
            )
        ],
    )
    return core_wf.WorkflowTemplate(
        id=ident(RT.RESOURCE_TYPE_WORKFLOW, name, version),
        interface=interface_pb2.TypedInterface(
            inputs=variables(**(inputs or {"x": INT})), outputs=variables(o0=INT)
        ),
        nodes=[node],
        outputs=[
            literals_pb2.Binding(
                var="o0",
                binding=literals_pb2.BindingData(
                    promise=types_pb2.OutputReference(node_id="n0", var="o0")
                ),
            )
        ],
    )


async def register_task(admin: Running, template: tasks_pb2.TaskTemplate | None = None) -> None:
    template = template or task_template()
    await admin.stub.CreateTask(
        task_pb2.CreateTaskRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))
    )


async def register_workflow(
    admin: Running, template: core_wf.WorkflowTemplate | None = None
) -> None:
    template = template or workflow_template()
    await admin.stub.CreateWorkflow(
        workflow_pb2.CreateWorkflowRequest(
            id=template.id, spec=workflow_pb2.WorkflowSpec(template=template)
        )
    )
