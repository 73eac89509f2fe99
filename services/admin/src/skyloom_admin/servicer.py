"""The AdminService implementation: one class composed of per-area mixins.

Each area contributes a mixin with its RPC methods (``async def X(self, request, call)``):
the registry half's mixins are listed in :class:`RegistryServicer`; the execution half's
(``ExecutionRpcs``, ``EventRpcs``, ``SignalRpcs``, ``NodeExecutionRpcs``) are found at start-up
in their packages' ``rpcs`` modules and mixed in when present. A mixin that needs state builds
it in an optional ``_init_rpcs(self, ctx: AppContext) -> None`` hook, called once per mixin at
construction. Any RPC no mixin implements answers ``FAILED_PRECONDITION``
(reason ``UNIMPLEMENTED``), so the descriptor is always fully bound.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine
from typing import Any, cast

from google.protobuf.message import Message

from skyloom_admin.attributes.manager import AttributeManager
from skyloom_admin.attributes.rpcs import AttributeRpcs
from skyloom_admin.context import AppContext
from skyloom_admin.dataproxy.manager import UploadManager
from skyloom_admin.dataproxy.rpcs import DataProxyRpcs
from skyloom_admin.projects.manager import ProjectManager
from skyloom_admin.projects.rpcs import ProjectRpcs
from skyloom_admin.registry.manager import RegistryManager
from skyloom_admin.registry.rpcs import LaunchPlanRpcs, TaskRpcs, WorkflowRpcs
from skyloom_admin.tokens.manager import TokenManager
from skyloom_admin.tokens.rpcs import AuthTokenRpcs
from skyloom_common.errors import FailedPrecondition
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import version_pb2
from skyloom_idl.service import admin_pb2 as admin_service_pb2

__all__ = ["DESCRIPTOR", "OPTIONAL_MIXINS", "RegistryServicer", "build_servicer"]

DESCRIPTOR = admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"]
OPTIONAL_MIXINS = (
    ("skyloom_admin.executions.rpcs", "ExecutionRpcs"),
    ("skyloom_admin.events.rpcs", "EventRpcs"),
    ("skyloom_admin.signals.rpcs", "SignalRpcs"),
    ("skyloom_admin.nodes.rpcs", "NodeExecutionRpcs"),
)


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


def _import_optional(module: str, name: str) -> type | None:
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # Only "this area is not written yet" is optional; a broken import inside it is not.
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise
    mixin = getattr(loaded, name, None)
    return mixin if isinstance(mixin, type) else None


def _unimplemented(name: str) -> Callable[[Any, Message, RpcCall], Coroutine[Any, Any, Message]]:
    async def handler(self: Any, request: Message, call: RpcCall) -> Message:
        raise FailedPrecondition(f"{name} is not implemented yet", reason="UNIMPLEMENTED")

    handler.__name__ = name
    return handler


def build_servicer(ctx: AppContext, uploads: UploadManager) -> RegistryServicer:
    """The composed servicer for ``ctx`` (see the module docstring)."""
    mixins = [m for m in (_import_optional(mod, n) for mod, n in OPTIONAL_MIXINS) if m]
    namespace: dict[str, object] = {}
    bases: tuple[type, ...] = (*mixins, RegistryServicer)
    for method in DESCRIPTOR.methods:
        if not any(hasattr(base, method.name) for base in bases):
            namespace[method.name] = _unimplemented(method.name)
    cls = type("AdminServicer", bases, namespace)
    servicer = cast("RegistryServicer", object.__new__(cls))
    servicer.ctx = ctx
    servicer.projects = ctx.projects
    servicer.registry = ctx.registry
    servicer.attributes = ctx.attributes
    servicer.tokens = ctx.tokens
    servicer.uploads = uploads
    for base in reversed(cls.__mro__):
        hook = base.__dict__.get("_init_rpcs")
        if callable(hook):
            hook(servicer, ctx)
    return servicer
