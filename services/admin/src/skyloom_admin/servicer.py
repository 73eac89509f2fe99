"""The AdminService implementation: one class composed of per-area mixins.

Each area contributes a mixin with its RPC methods (``async def X(self, request, call)``):
the registry half's are listed in :class:`RegistryServicer`, the execution half's
(``ExecutionRpcs``, ``EventRpcs``, ``SignalRpcs``, ``NodeExecutionRpcs``) read the
:class:`~skyloom_admin.executions.plane.ExecutionPlane` that :func:`build_servicer` is given.
A test checks that the composed class implements every RPC of the descriptor.
"""

from __future__ import annotations

from skyloom_admin.attributes.manager import AttributeManager
from skyloom_admin.attributes.rpcs import AttributeRpcs
from skyloom_admin.context import AppContext
from skyloom_admin.dataproxy.manager import UploadManager
from skyloom_admin.dataproxy.rpcs import DataProxyRpcs
from skyloom_admin.events.rpcs import EventRpcs
from skyloom_admin.executions.plane import ExecutionPlane
from skyloom_admin.executions.rpcs import ExecutionRpcs
from skyloom_admin.nodes.rpcs import NodeExecutionRpcs
from skyloom_admin.projects.manager import ProjectManager
from skyloom_admin.projects.rpcs import ProjectRpcs
from skyloom_admin.registry.manager import RegistryManager
from skyloom_admin.registry.rpcs import LaunchPlanRpcs, TaskRpcs, WorkflowRpcs
from skyloom_admin.signals.rpcs import SignalRpcs
from skyloom_admin.tokens.manager import TokenManager
from skyloom_admin.tokens.rpcs import AuthTokenRpcs
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import version_pb2
from skyloom_idl.service import admin_pb2 as admin_service_pb2

__all__ = ["DESCRIPTOR", "AdminServicer", "RegistryServicer", "build_servicer"]

DESCRIPTOR = admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"]


class VersionRpcs:
    ctx: AppContext

    async def GetVersion(
        self, request: version_pb2.GetVersionRequest, call: RpcCall
    ) -> version_pb2.GetVersionResponse:
        admin = self.ctx.settings.admin
        return version_pb2.GetVersionResponse(
            version=admin.version,
            build=admin.build,
            max_inline_data_bytes=admin.max_inline_data_bytes,
            domains=list(admin.domains),
        )


class RegistryServicer(
    VersionRpcs,
    ProjectRpcs,
    TaskRpcs,
    WorkflowRpcs,
    LaunchPlanRpcs,
    AttributeRpcs,
    DataProxyRpcs,
    AuthTokenRpcs,
):
    """The registry half: projects, entities, attributes, uploads, tokens, version."""

    ctx: AppContext
    projects: ProjectManager
    registry: RegistryManager
    attributes: AttributeManager
    tokens: TokenManager
    uploads: UploadManager


class AdminServicer(ExecutionRpcs, EventRpcs, SignalRpcs, NodeExecutionRpcs, RegistryServicer):
    """Every AdminService RPC."""


def build_servicer(ctx: AppContext, uploads: UploadManager, plane: ExecutionPlane) -> AdminServicer:
    """The servicer for ``ctx``; ``plane`` serves the execution half."""
    servicer = object.__new__(AdminServicer)
    servicer.ctx = ctx
    servicer.projects = ctx.projects
    servicer.registry = ctx.registry
    servicer.attributes = ctx.attributes
    servicer.tokens = ctx.tokens
    servicer.uploads = uploads
    servicer.execution_plane = plane
    return servicer
