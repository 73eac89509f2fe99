"""Who may call which AdminService RPC, on which project: one table, checked on every call.

The runtime authenticates before the request is parsed (see :mod:`skyloom_common.rpc.auth`),
so the per-project check runs one step later, in :func:`guard`, which wraps every servicer
method: it reads the project out of the *parsed* request through :data:`RULES` and compares
the caller's grants with the method's required role.

A principal's grants travel in ``Principal.scopes`` as ``grant:<project>:<role>`` (``*`` is
every project: bootstrap and platform tokens). Roles are ordered viewer < editor < admin.

- no/garbage/revoked/expired credentials: ``UNAUTHENTICATED`` (from the authenticator);
- a valid token for another project, or with too low a role: ``PERMISSION_DENIED``.

A method whose request names no project (``""``) needs a platform grant, unless its rule says
``empty="any"``: then any grant of at least the role will do (the handler narrows the answer,
e.g. ListProjects lists only the projects the caller can see).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from skyloom_common.errors import PermissionDenied
from skyloom_common.rpc import MethodInfo, Principal, RpcCall
from skyloom_idl.admin import auth_token_pb2

__all__ = [
    "ADMIN",
    "EDITOR",
    "PLATFORM",
    "RULES",
    "VIEWER",
    "RoleGate",
    "Rule",
    "TokenRef",
    "can",
    "grant_scope",
    "grants_of",
    "guard",
    "method_authorizers",
    "visible_projects",
]

Role = auth_token_pb2.AuthToken.Role
VIEWER = Role.ROLE_VIEWER
EDITOR = Role.ROLE_EDITOR
ADMIN = Role.ROLE_ADMIN
PLATFORM = "*"
_ROLE_NAMES: dict[int, str] = {VIEWER: "viewer", EDITOR: "editor", ADMIN: "admin"}


@dataclass(frozen=True, slots=True)
class TokenRef:
    """A request that names a token rather than a project (RevokeAuthToken)."""

    token_id: str


@dataclass(frozen=True, slots=True)
class Rule:
    """``role`` needed in the project found at ``path`` in the request.

    ``path=None``: the request names no project (platform-wide, or see ``empty``);
    ``token=True``: the request names a token (``id``), whose project counts.
    """

    role: int
    path: tuple[str, ...] | None
    empty: Literal["platform", "any"] = "platform"
    token: bool = False

    def target(self, request: Any) -> str | TokenRef:
        if self.token:
            return TokenRef(str(request.id))
        value = request
        for name in self.path or ():
            value = getattr(value, name)
        return str(value) if self.path else ""


def grant_scope(project: str, role: int) -> str:
    """The scope string of one grant (``project`` ``*`` for every project)."""
    return f"grant:{project or PLATFORM}:{int(role)}"


def grants_of(principal: Principal) -> dict[str, int]:
    """``{project: role}`` from a principal's scopes; malformed scopes are ignored."""
    out: dict[str, int] = {}
    for scope in principal.scopes:
        kind, _, rest = scope.partition(":")
        project, _, role = rest.rpartition(":")
        if kind == "grant" and project and role.isdigit():
            out[project] = max(out.get(project, 0), int(role))
    return out


def can(principal: Principal | None, role: int, project: str) -> bool:
    """Whether ``principal`` holds at least ``role`` in ``project`` (or everywhere)."""
    if principal is None:
        return False
    if not principal.authenticated:
        return True  # auth.mode=disabled: every caller is anonymous and allowed
    grants = grants_of(principal)
    return max(grants.get(PLATFORM, 0), grants.get(project, 0) if project else 0) >= role


def visible_projects(principal: Principal | None, role: int = VIEWER) -> frozenset[str] | None:
    """The projects ``principal`` holds ``role`` in; ``None`` means every project."""
    if principal is None:
        return frozenset()
    if not principal.authenticated:
        return None
    grants = grants_of(principal)
    if grants.get(PLATFORM, 0) >= role:
        return None
    return frozenset(p for p, r in grants.items() if r >= role)


def _at(dotted: str) -> tuple[str, ...]:
    return tuple(dotted.split("."))


_EXEC = _at("id.project")
_NODE = _at("id.execution_id.project")
_TASK_EXEC = _at("id.node_execution_id.execution_id.project")
_SIGNAL = _at("id.execution_id.project")
_NONE = None

RULES: Mapping[str, Rule] = {
    # registry
    "CreateTask": Rule(EDITOR, _at("id.project")),
    "GetTask": Rule(VIEWER, _at("id.project")),
    "ListTasks": Rule(VIEWER, _at("id.project")),
    "ListTaskIds": Rule(VIEWER, _at("project")),
    "CreateWorkflow": Rule(EDITOR, _at("id.project")),
    "GetWorkflow": Rule(VIEWER, _at("id.project")),
    "ListWorkflows": Rule(VIEWER, _at("id.project")),
    "ListWorkflowIds": Rule(VIEWER, _at("project")),
    "CreateLaunchPlan": Rule(EDITOR, _at("id.project")),
    "GetLaunchPlan": Rule(VIEWER, _at("id.project")),
    "GetActiveLaunchPlan": Rule(VIEWER, _at("id.project")),
    "ListLaunchPlans": Rule(VIEWER, _at("id.project")),
    "ListActiveLaunchPlans": Rule(VIEWER, _at("project")),
    "ListLaunchPlanIds": Rule(VIEWER, _at("project")),
    "UpdateLaunchPlan": Rule(EDITOR, _at("id.project")),
    # executions
    "CreateExecution": Rule(EDITOR, _at("project")),
    "RelaunchExecution": Rule(EDITOR, _EXEC),
    "RecoverExecution": Rule(EDITOR, _EXEC),
    "GetExecution": Rule(VIEWER, _EXEC),
    "UpdateExecution": Rule(EDITOR, _EXEC),
    "ListExecutions": Rule(VIEWER, _at("project")),
    "TerminateExecution": Rule(EDITOR, _EXEC),
    "GetExecutionData": Rule(VIEWER, _EXEC),
    "GetNodeExecution": Rule(VIEWER, _NODE),
    "ListNodeExecutions": Rule(VIEWER, _at("execution_id.project")),
    "GetNodeExecutionData": Rule(VIEWER, _NODE),
    "GetTaskExecution": Rule(VIEWER, _TASK_EXEC),
    "ListTaskExecutions": Rule(VIEWER, _at("node_execution_id.execution_id.project")),
    "GetTaskExecutionData": Rule(VIEWER, _TASK_EXEC),
    # events (the engine's token is an editor, usually a platform one)
    "CreateWorkflowEvent": Rule(EDITOR, _at("event.execution_id.project")),
    "CreateNodeEvent": Rule(EDITOR, _at("event.id.execution_id.project")),
    "CreateTaskEvent": Rule(EDITOR, _at("event.parent_node_execution_id.execution_id.project")),
    # projects and domains
    "RegisterProject": Rule(ADMIN, _NONE),
    "UpdateProject": Rule(ADMIN, _at("project.id")),
    "GetProject": Rule(VIEWER, _at("id")),
    "ListProjects": Rule(VIEWER, _NONE, empty="any"),
    "GetDomains": Rule(VIEWER, _NONE, empty="any"),
    # attributes
    "UpdateMatchableAttributes": Rule(ADMIN, _at("attributes.scope.project")),
    "GetMatchableAttributes": Rule(VIEWER, _at("scope.project")),
    "DeleteMatchableAttributes": Rule(ADMIN, _at("scope.project")),
    "ListMatchableAttributes": Rule(VIEWER, _at("project")),
    # signals
    "GetOrCreateSignal": Rule(EDITOR, _SIGNAL),
    "ListSignals": Rule(VIEWER, _at("execution_id.project")),
    "SetSignal": Rule(EDITOR, _SIGNAL),
    "ApproveSignal": Rule(EDITOR, _SIGNAL),
    # data proxy, tokens, version
    "CreateUploadLocation": Rule(EDITOR, _at("project")),
    "CreateAuthToken": Rule(ADMIN, _at("project")),
    "ListAuthTokens": Rule(ADMIN, _at("project"), empty="any"),
    "RevokeAuthToken": Rule(ADMIN, _NONE, token=True),
    "GetVersion": Rule(VIEWER, _NONE, empty="any"),
}

TokenProject = Callable[[str], Awaitable[str | None]]


async def check(
    principal: Principal | None,
    method: str,
    request: Message,
    *,
    token_project: TokenProject,
) -> None:
    """Raise ``PermissionDenied`` unless ``principal`` may call ``method`` with ``request``."""
    if principal is not None and not principal.authenticated:
        return
    rule = RULES[method]
    target = rule.target(request)
    if isinstance(target, TokenRef):
        # An unknown token id is answered like a foreign one, so ids cannot be probed.
        target = await token_project(target.token_id) or "\x00unknown"
    needed = _ROLE_NAMES.get(rule.role, str(rule.role))
    if not target and rule.empty == "any":
        grants = grants_of(principal) if principal is not None else {}
        if max(grants.values(), default=0) >= rule.role:
            return
        raise PermissionDenied(f"{method} needs the {needed} role", reason="ROLE_TOO_LOW")
    if can(principal, rule.role, target):
        return
    where = f"project {target!r}" if target and "\x00" not in target else "every project"
    raise PermissionDenied(
        f"{method} needs the {needed} role in {where}",
        reason="PERMISSION_DENIED",
        metadata={"required_role": needed},
    )


class RoleGate:
    """The runtime's per-method authorizer (before the request is parsed): the caller must
    hold ``role`` in at least one project. :func:`guard` then checks the project itself."""

    def __init__(self, role: int) -> None:
        self.role = role

    async def authorize(self, principal: Principal, method: MethodInfo) -> None:
        if not principal.authenticated:
            return
        if max(grants_of(principal).values(), default=0) < self.role:
            needed = _ROLE_NAMES.get(self.role, str(self.role))
            raise PermissionDenied(f"{method.name} needs the {needed} role", reason="ROLE_TOO_LOW")


def method_authorizers(descriptor: ServiceDescriptor) -> dict[str, RoleGate]:
    """``AuthPolicy.method_authorizers`` for every method of ``descriptor`` (from RULES)."""
    return {
        f"/{descriptor.full_name}/{m.name}": RoleGate(RULES[m.name].role)
        for m in descriptor.methods
    }


Handler = Callable[[Message, RpcCall], Awaitable[Message]]


def guard(
    implementation: object, descriptor: ServiceDescriptor, *, token_project: TokenProject
) -> object:
    """An object with every method of ``descriptor``, each checking :data:`RULES` against the
    parsed request before delegating to ``implementation``. Raises ``KeyError`` at start-up
    if a method has no rule (deny by default, never by omission)."""
    missing = [m.name for m in descriptor.methods if m.name not in RULES]
    if missing:
        raise KeyError(f"no authorization rule for {missing}")

    class Guarded:
        pass

    guarded = Guarded()
    for method in descriptor.methods:
        inner: Handler = getattr(implementation, method.name)
        if not inspect.iscoroutinefunction(inner):
            raise TypeError(f"{method.name} must be an async def")
        setattr(guarded, method.name, _wrap(method.name, inner, token_project))
    return guarded


def _wrap(name: str, inner: Handler, token_project: TokenProject) -> Handler:
    async def handler(request: Message, call: RpcCall) -> Message:
        await check(call.principal, name, request, token_project=token_project)
        return await inner(request, call)

    handler.__name__ = name
    return handler
