"""The auth matrix: every AdminService RPC x {no token, garbage, revoked, other project, too
low a role}; plus token lifecycle and the rule table covering the whole descriptor."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import Message

from skyloom_admin.authz import RULES, VIEWER, Rule
from skyloom_admin.servicer import DESCRIPTOR
from skyloom_common.errors import (
    InvalidArgument,
    PermissionDenied,
    SkyloomError,
    Unauthenticated,
)
from skyloom_common.rpc import error_from_rpc_error
from skyloom_idl.admin import auth_token_pb2 as tok
from skyloom_idl.admin import project_pb2, task_pb2

from .conftest import BOOTSTRAP, PROJECT, Running, fails, task_template

pytestmark = pytest.mark.integration
Role = tok.AuthToken.Role
METHODS = [m.name for m in DESCRIPTOR.methods]


# Written out independently of authz.RULES, so a wrong entry there fails a test.
ADMIN_ONLY = {
    "RegisterProject",
    "UpdateProject",
    "UpdateMatchableAttributes",
    "DeleteMatchableAttributes",
    "CreateAuthToken",
    "ListAuthTokens",
    "RevokeAuthToken",
}
READ_ONLY = {
    m for m in METHODS if m.startswith(("Get", "List")) and m != "GetOrCreateSignal"
} - ADMIN_ONLY


def expected_role(method: str) -> int:
    if method in ADMIN_ONLY:
        return Role.ROLE_ADMIN
    return Role.ROLE_VIEWER if method in READ_ONLY else Role.ROLE_EDITOR


def test_every_rpc_has_a_rule_with_the_intended_role() -> None:
    assert set(RULES) == set(METHODS)
    wrong = {
        m: (RULES[m].role, expected_role(m)) for m in METHODS if RULES[m].role != expected_role(m)
    }
    assert not wrong


def request_for(method: str, project: str, token_id: str) -> Message:
    descriptor = DESCRIPTOR.methods_by_name[method].input_type
    from google.protobuf.message_factory import GetMessageClass

    request = GetMessageClass(descriptor)()
    rule = RULES[method]
    if rule.token:
        request.id = token_id  # type: ignore[attr-defined]
    elif rule.path:
        target: Message = request
        for name in rule.path[:-1]:
            target = getattr(target, name)
        setattr(target, rule.path[-1], project)
    return request


async def make_token(admin: Running, project: str, role: int) -> tuple[str, str]:
    created = await admin.stub.CreateAuthToken(
        tok.CreateAuthTokenRequest(project=project, role=role, description="test")  # type: ignore[arg-type]
    )
    return created.token.id, created.secret


@pytest.fixture
async def tokens(admin: Running, project: str) -> dict[str, str]:
    await admin.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=project_pb2.Project(id="other"))
    )
    revoked_id, revoked = await make_token(admin, PROJECT, Role.ROLE_ADMIN)
    await admin.stub.RevokeAuthToken(tok.RevokeAuthTokenRequest(id=revoked_id))
    victim_id, _ = await make_token(admin, PROJECT, Role.ROLE_VIEWER)
    _, other = await make_token(admin, "other", Role.ROLE_ADMIN)
    _, viewer = await make_token(admin, PROJECT, Role.ROLE_VIEWER)
    _, editor = await make_token(admin, PROJECT, Role.ROLE_EDITOR)
    return {
        "revoked": revoked,
        "other": other,
        "viewer": viewer,
        "editor": editor,
        "victim": victim_id,
    }


async def call(admin: Running, method: str, token: str | None, victim: str) -> SkyloomError:
    payload = request_for(method, PROJECT, victim).SerializeToString()
    return await fails(admin.raw(method, payload, token))


async def test_auth_matrix(admin: Running, tokens: dict[str, str]) -> None:
    problems: list[str] = []
    victim = tokens["victim"]
    for method in METHODS:
        rule: Rule = RULES[method]
        cases: list[tuple[str, str | None, type[SkyloomError]]] = [
            ("no token", None, Unauthenticated),
            ("garbage", "garbage", Unauthenticated),
            ("forged", "skl_0000.not-a-secret", Unauthenticated),
            ("revoked", tokens["revoked"], Unauthenticated),
        ]
        if rule.path is not None or rule.token or rule.empty == "platform":
            cases.append(("other project", tokens["other"], PermissionDenied))
        if expected_role(method) > VIEWER:
            cases.append(("too low a role", tokens["viewer"], PermissionDenied))
        if expected_role(method) > Role.ROLE_EDITOR:
            cases.append(("editor on an admin RPC", tokens["editor"], PermissionDenied))
        for label, token, expected in cases:
            try:
                error = await call(admin, method, token, victim)
            except AssertionError:
                problems.append(f"{method} / {label}: succeeded")
                continue
            if not isinstance(error, expected):
                problems.append(f"{method} / {label}: {type(error).__name__} {error.message}")
    assert not problems, "\n".join(problems)
    # Nothing was written by any refused call: only the fixture's tokens and projects exist.
    assert await admin.count("auth_tokens") == 5
    assert await admin.count("projects") == 2


async def test_viewer_passes_the_gate_of_every_read_only_rpc(
    admin: Running, tokens: dict[str, str]
) -> None:
    # The request is empty apart from the project, so most handlers then refuse it, but never
    # with an auth error.
    refused = []
    for method in sorted(READ_ONLY):
        payload = request_for(method, PROJECT, tokens["victim"]).SerializeToString()
        try:
            await admin.raw(method, payload, tokens["viewer"])
        except Exception as exc:
            error = error_from_rpc_error(exc) if isinstance(exc, grpc.aio.AioRpcError) else exc
            if isinstance(error, PermissionDenied | Unauthenticated):
                refused.append(f"{method}: {error}")
    assert not refused


async def test_scoped_tokens_work_within_their_grant(admin: Running, project: str) -> None:
    _, editor = await make_token(admin, PROJECT, Role.ROLE_EDITOR)
    as_editor = admin.stub_as(editor)
    template = task_template()
    created = await as_editor.CreateTask(
        task_pb2.CreateTaskRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))
    )
    assert created.created
    got = await as_editor.GetProject(project_pb2.GetProjectRequest(id=PROJECT))
    assert got.project.id == PROJECT
    listed = await as_editor.ListProjects(project_pb2.ListProjectsRequest())
    assert [p.id for p in listed.projects] == [PROJECT]
    denied = await fails(as_editor.CreateAuthToken(tok.CreateAuthTokenRequest(project=PROJECT)))
    assert isinstance(denied, PermissionDenied)


async def test_tokens_are_stored_hashed_listed_and_revoked(admin: Running, project: str) -> None:
    token_id, secret = await make_token(admin, PROJECT, Role.ROLE_VIEWER)
    stored = await admin.db.fetchval(
        "SELECT secret_sha256 FROM auth_tokens WHERE id = $1", token_id
    )
    assert secret.encode() not in bytes(stored)
    assert len(bytes(stored)) == 32
    listed = await admin.stub.ListAuthTokens(tok.ListAuthTokensRequest(project=PROJECT))
    assert [t.id for t in listed.tokens] == [token_id]
    viewer = admin.stub_as(secret)
    await viewer.GetProject(project_pb2.GetProjectRequest(id=PROJECT))
    await admin.stub.RevokeAuthToken(tok.RevokeAuthTokenRequest(id=token_id))
    await admin.stub.RevokeAuthToken(tok.RevokeAuthTokenRequest(id=token_id))  # idempotent
    error = await fails(viewer.GetProject(project_pb2.GetProjectRequest(id=PROJECT)))
    assert isinstance(error, Unauthenticated)
    assert error.reason == "REVOKED_TOKEN"
    assert not (await admin.stub.ListAuthTokens(tok.ListAuthTokensRequest(project=PROJECT))).tokens


async def test_bad_token_requests(admin: Running, project: str) -> None:
    error = await fails(
        admin.stub.CreateAuthToken(tok.CreateAuthTokenRequest(project="../x", role=Role.ROLE_ADMIN))
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("project",)
    no_role = await fails(admin.stub.CreateAuthToken(tok.CreateAuthTokenRequest(project=PROJECT)))
    assert isinstance(no_role, InvalidArgument)
    assert no_role.field_paths == ("role",)
    assert await admin.count("auth_tokens") == 0


def test_bootstrap_is_long_enough() -> None:
    assert len(BOOTSTRAP) >= 32


async def test_expired_tokens_are_unauthenticated(admin: Running, project: str) -> None:
    import asyncio

    from google.protobuf.duration_pb2 import Duration

    created = await admin.stub.CreateAuthToken(
        tok.CreateAuthTokenRequest(
            project=PROJECT, role=Role.ROLE_VIEWER, expires_in=Duration(seconds=1)
        )
    )
    assert created.token.expires_at.seconds > 0
    short_lived = admin.stub_as(created.secret)
    await short_lived.GetProject(project_pb2.GetProjectRequest(id=PROJECT))
    await asyncio.sleep(1.2)
    error = await fails(short_lived.GetProject(project_pb2.GetProjectRequest(id=PROJECT)))
    assert isinstance(error, Unauthenticated)
    assert error.reason == "EXPIRED_TOKEN"
