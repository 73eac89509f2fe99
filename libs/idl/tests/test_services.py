"""The gRPC surface: one request and one response type per RPC, and the calls other
services are written against."""

from __future__ import annotations

from collections import Counter
from types import ModuleType

import grpc
import pytest
from google.protobuf.descriptor import ServiceDescriptor

from skyloom_idl.service import admin_pb2_grpc, datacatalog_pb2_grpc, plugin_pb2_grpc


@pytest.fixture(scope="session")
def services(modules: dict[str, ModuleType]) -> list[ServiceDescriptor]:
    found = [
        service
        for module in modules.values()
        if hasattr(module, "DESCRIPTOR") and hasattr(module.DESCRIPTOR, "services_by_name")
        for service in module.DESCRIPTOR.services_by_name.values()
    ]
    assert {s.full_name for s in found} == {
        "skyloom.service.AdminService",
        "skyloom.service.DataCatalogService",
        "skyloom.service.PluginService",
    }
    return found


def test_every_request_and_response_type_belongs_to_one_rpc(
    services: list[ServiceDescriptor],
) -> None:
    # A shared request type couples two RPCs forever: adding a field for one changes both.
    types = Counter(
        t.full_name
        for service in services
        for method in service.methods
        for t in (method.input_type, method.output_type)
    )
    assert [name for name, n in types.items() if n > 1] == []


def test_request_and_response_types_are_named_after_their_rpc(
    services: list[ServiceDescriptor],
) -> None:
    for service in services:
        for method in service.methods:
            assert method.input_type.name == f"{method.name}Request", method.full_name
            assert method.output_type.name == f"{method.name}Response", method.full_name


ADMIN_RPCS = {
    # Names the SDK, the CLI, the engine and the scheduler are written against.
    "CreateTask", "GetTask", "ListTasks", "ListTaskIds",
    "CreateWorkflow", "GetWorkflow", "ListWorkflows", "ListWorkflowIds",
    "CreateLaunchPlan", "GetLaunchPlan", "GetActiveLaunchPlan", "ListLaunchPlans",
    "ListActiveLaunchPlans", "ListLaunchPlanIds", "UpdateLaunchPlan",
    "CreateExecution", "RelaunchExecution", "RecoverExecution", "GetExecution",
    "UpdateExecution", "ListExecutions", "TerminateExecution", "GetExecutionData",
    "GetNodeExecution", "ListNodeExecutions", "GetNodeExecutionData",
    "GetTaskExecution", "ListTaskExecutions", "GetTaskExecutionData",
    "CreateWorkflowEvent", "CreateNodeEvent", "CreateTaskEvent",
    "RegisterProject", "UpdateProject", "GetProject", "ListProjects", "GetDomains",
    "UpdateMatchableAttributes", "GetMatchableAttributes", "DeleteMatchableAttributes",
    "ListMatchableAttributes",
    "GetOrCreateSignal", "ListSignals", "SetSignal", "ApproveSignal",
    "CreateUploadLocation", "CreateAuthToken", "ListAuthTokens", "RevokeAuthToken",
    "GetVersion",
}  # fmt: skip
DATACATALOG_RPCS = {
    "CreateDataset", "GetDataset", "ListDatasets", "CreateArtifact", "GetArtifact",
    "ListArtifacts", "AddTag", "GetOrExtendReservation", "ReleaseReservation",
    "ListCacheEntries", "EvictCacheEntry", "EvictCacheVersion",
}  # fmt: skip
PLUGIN_RPCS = {"CreateTask", "GetTask", "DeleteTask", "GetTaskLogs"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("skyloom.service.AdminService", ADMIN_RPCS),
        ("skyloom.service.DataCatalogService", DATACATALOG_RPCS),
        ("skyloom.service.PluginService", PLUGIN_RPCS),
    ],
)
def test_services_offer_the_rpcs_clients_rely_on(
    services: list[ServiceDescriptor], name: str, expected: set[str]
) -> None:
    (service,) = [s for s in services if s.full_name == name]
    assert {m.name for m in service.methods} == expected


def test_only_task_logs_stream(services: list[ServiceDescriptor]) -> None:
    streaming = {
        m.full_name for s in services for m in s.methods if m.server_streaming or m.client_streaming
    }
    assert streaming == {"skyloom.service.PluginService.GetTaskLogs"}
    (logs,) = [m for s in services for m in s.methods if m.full_name in streaming]
    assert logs.server_streaming
    assert not logs.client_streaming


@pytest.mark.parametrize(
    ("module", "service"),
    [
        (admin_pb2_grpc, "AdminService"),
        (datacatalog_pb2_grpc, "DataCatalogService"),
        (plugin_pb2_grpc, "PluginService"),
    ],
)
def test_stubs_and_servicers_cover_every_rpc(
    services: list[ServiceDescriptor], module: ModuleType, service: str
) -> None:
    (descriptor,) = [s for s in services if s.name == service]
    servicer = getattr(module, f"{service}Servicer")
    assert callable(getattr(module, f"add_{service}Servicer_to_server"))
    with grpc.insecure_channel("127.0.0.1:9") as channel:  # lazy: never connects
        stub = getattr(module, f"{service}Stub")(channel)
        for method in descriptor.methods:
            assert callable(getattr(servicer, method.name)), method.full_name
            assert callable(getattr(stub, method.name)), method.full_name
