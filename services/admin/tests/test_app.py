"""The assembled service: start-up checks, GetVersion, domains, health and reflection."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr, ValidationError

from skyloom_admin import AdminSettings
from skyloom_admin.servicer import DESCRIPTOR, AdminServicer
from skyloom_common.config import AuthSettings
from skyloom_common.errors import InvalidArgument, Unavailable
from skyloom_core.blob import store_for
from skyloom_idl.admin import project_pb2, version_pb2
from skyloom_testing.postgres import PostgresServer

from .conftest import Running, admin_settings, fails, start

pytestmark = pytest.mark.integration


async def test_get_version_and_domains(admin: Running) -> None:
    version = await admin.stub.GetVersion(version_pb2.GetVersionRequest())
    assert list(version.domains) == ["development", "staging", "production"]
    assert version.max_inline_data_bytes == 1024 * 1024
    domains = await admin.stub.GetDomains(project_pb2.GetDomainsRequest())
    assert [d.id for d in domains.domains] == ["development", "staging", "production"]


async def test_health_serving(admin: Running) -> None:
    async with grpc.aio.insecure_channel(admin.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service=DESCRIPTOR.full_name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_the_servicer_implements_every_rpc_of_the_service() -> None:
    missing = [m.name for m in DESCRIPTOR.methods if not hasattr(AdminServicer, m.name)]
    assert missing == []


async def test_malformed_bytes_are_invalid_argument_for_every_rpc(admin: Running) -> None:
    wrong = []
    for method in DESCRIPTOR.methods:
        error = await fails(admin.raw(method.name, b"\x0a\xff\xff\xff\xff"))
        if not isinstance(error, InvalidArgument) or error.reason != "MALFORMED_REQUEST":
            wrong.append(f"{method.name}: {type(error).__name__}")
    assert not wrong


async def test_auth_disabled_only_when_configured(
    postgres_dsn: str, nats_url: str, tmp_path: Path
) -> None:
    settings = admin_settings(postgres_dsn, nats_url).model_copy(
        update={"auth": AuthSettings(mode="disabled")}
    )
    async with store_for(f"file://{tmp_path}/data") as data:
        async for running in start(settings, data_store=data):
            anonymous = running.stub_as(None)
            reply = await anonymous.RegisterProject(
                project_pb2.RegisterProjectRequest(project=project_pb2.Project(id="open"))
            )
            assert reply.project.id == "open"


def test_auth_needs_an_explicit_mode_and_a_bootstrap_token() -> None:
    with pytest.raises(ValidationError):
        AdminSettings()  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        AuthSettings(mode="static_token")
    with pytest.raises(ValidationError):
        AuthSettings(mode="static_token", static_tokens={"root": SecretStr("short")})


async def test_reflection_lists_admin_and_health(admin: Running) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with grpc.aio.insecure_channel(admin.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names: list[str] = []
        async for reply in stub.ServerReflectionInfo(iter([request])):
            names += [s.name for s in reply.list_services_response.service]
    assert {DESCRIPTOR.full_name, "grpc.health.v1.Health"} <= set(names)


async def test_postgres_crash_is_unavailable_then_recovers(
    postgres_private_server: PostgresServer, nats_url: str, tmp_path: Path
) -> None:
    server = postgres_private_server
    dsn = server.dsn(await server.create_database())
    request = project_pb2.GetProjectRequest(id="p1")
    async with store_for(f"file://{tmp_path}/data") as data:
        async for running in start(admin_settings(dsn, nats_url), data_store=data):
            await running.stub.RegisterProject(
                project_pb2.RegisterProjectRequest(project=project_pb2.Project(id="p1"))
            )
            server.crash()
            error = await fails(running.stub.GetProject(request))
            assert isinstance(error, Unavailable)
            server.start()
            codes: list[grpc.StatusCode] = []
            for _ in range(100):
                try:
                    reply = await running.stub.GetProject(request)
                    break
                except grpc.aio.AioRpcError as exc:
                    codes.append(exc.code())
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("admin did not recover after Postgres restarted")
            assert reply.project.id == "p1"
            assert set(codes) <= {grpc.StatusCode.UNAVAILABLE}
