"""The assembled service: start-up checks, GetVersion, domains, health and reflection."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr, ValidationError

from skyloom_admin import AdminSettings
from skyloom_admin.servicer import DESCRIPTOR
from skyloom_common.config import AuthSettings
from skyloom_common.errors import FailedPrecondition
from skyloom_idl.admin import execution_pb2, project_pb2, version_pb2

from .conftest import Running, fails

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


async def test_rpcs_of_areas_not_present_answer_failed_precondition(admin: Running) -> None:
    if hasattr(admin.app.ctx, "executions") or _executions_present():
        pytest.skip("the executions area is implemented")
    error = await fails(admin.stub.GetExecution(execution_pb2.GetExecutionRequest()))
    assert isinstance(error, FailedPrecondition)


def _executions_present() -> bool:
    import importlib.util

    return importlib.util.find_spec("skyloom_admin.executions") is not None


def test_auth_needs_an_explicit_mode_and_a_bootstrap_token() -> None:
    with pytest.raises(ValidationError):
        AdminSettings()  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        AuthSettings(mode="static_token")
    with pytest.raises(ValidationError):
        AuthSettings(mode="static_token", static_tokens={"root": SecretStr("short")})
