"""CreateAuthToken, ListAuthTokens, RevokeAuthToken."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from skyloom_admin.authz import ADMIN, visible_projects
from skyloom_admin.tokens.manager import TokenManager
from skyloom_admin.tokens.store import TokenRow
from skyloom_common.errors import PermissionDenied
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import auth_token_pb2 as pb

__all__ = ["AuthTokenRpcs", "token_message"]


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def token_message(row: TokenRow) -> pb.AuthToken:
    return pb.AuthToken(
        id=row.id,
        project=row.project,
        role=row.role,  # type: ignore[arg-type]
        description=row.description,
        created_at=_ts(row.created_at),
        expires_at=_ts(row.expires_at),
        created_by=row.created_by,
        revoked_at=_ts(row.revoked_at),
        last_used_at=_ts(row.last_used_at),
    )


class AuthTokenRpcs:
    tokens: TokenManager

    async def CreateAuthToken(
        self, request: pb.CreateAuthTokenRequest, call: RpcCall
    ) -> pb.CreateAuthTokenResponse:
        creator = call.principal.subject if call.principal is not None else "anonymous"
        created = await self.tokens.create(
            request.project,
            request.role,
            request.description,
            request.expires_in.ToTimedelta().total_seconds(),
            creator,
        )
        return pb.CreateAuthTokenResponse(token=token_message(created.row), secret=created.secret)

    async def ListAuthTokens(
        self, request: pb.ListAuthTokensRequest, call: RpcCall
    ) -> pb.ListAuthTokensResponse:
        allowed = visible_projects(call.principal, ADMIN)
        if request.project:
            if allowed is not None and request.project not in allowed:
                raise PermissionDenied(f"not an admin of project {request.project!r}")
            allowed = frozenset({request.project})
        rows, next_token = await self.tokens.list_tokens(
            allowed, request.include_revoked, request.page.limit, request.page.token
        )
        return pb.ListAuthTokensResponse(
            tokens=[token_message(r) for r in rows], next_token=next_token
        )

    async def RevokeAuthToken(
        self, request: pb.RevokeAuthTokenRequest, call: RpcCall
    ) -> pb.RevokeAuthTokenResponse:
        await self.tokens.revoke(request.id)
        return pb.RevokeAuthTokenResponse()
