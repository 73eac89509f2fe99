"""Creating, listing and revoking API tokens (no grpc here)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from skyloom_admin.authz import ADMIN, EDITOR, VIEWER
from skyloom_admin.listing import DEFAULT_LIMIT, MAX_LIMIT, decode_token, encode_token
from skyloom_admin.tokens.authenticator import TOKEN_PREFIX, secret_hash
from skyloom_admin.tokens.store import TokenRow, TokenStore
from skyloom_common.errors import FieldViolation, InvalidArgument, NotFound
from skyloom_core.names import validate_project

__all__ = ["CreatedToken", "TokenManager"]

MAX_EXPIRY = timedelta(days=366)


@dataclass(frozen=True)
class CreatedToken:
    row: TokenRow
    secret: str


class TokenManager:
    def __init__(
        self,
        store: TokenStore,
        project_exists: Callable[[str], Awaitable[object]],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._project_exists = project_exists
        self._clock = clock

    async def create(
        self, project: str, role: int, description: str, expires_in: float, created_by: str
    ) -> CreatedToken:
        violations: list[FieldViolation] = []
        if project:
            violations += [
                FieldViolation(v.field_path, v.message) for v in validate_project(project)
            ]
        if role not in (VIEWER, EDITOR, ADMIN):
            violations.append(FieldViolation("role", "must be VIEWER, EDITOR or ADMIN"))
        elif not project and role != ADMIN:
            violations.append(FieldViolation("role", "a token for every project must be ADMIN"))
        if expires_in < 0 or expires_in > MAX_EXPIRY.total_seconds():
            violations.append(FieldViolation("expires_in", f"must be 0..{MAX_EXPIRY.days} days"))
        if len(description) > 1024 or any(ord(c) < 32 for c in description):
            violations.append(FieldViolation("description", "at most 1024 printable characters"))
        if violations:
            raise InvalidArgument("invalid token request", violations=violations)
        if project:
            await self._project_exists(project)
        now = self._clock()
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        row = TokenRow(
            id=token_id,
            project=project,
            role=role,
            description=description,
            secret_sha256=secret_hash(secret),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
            revoked_at=None,
            last_used_at=None,
        )
        await self._store.insert(row)
        return CreatedToken(row, f"{TOKEN_PREFIX}{token_id}.{secret}")

    async def list_tokens(
        self,
        projects: frozenset[str] | None,
        include_revoked: bool,
        limit: int,
        token: str,
    ) -> tuple[list[TokenRow], str]:
        after = 0
        if token:
            state = decode_token(token)
            if not isinstance(state.get("s"), int):
                raise InvalidArgument.for_field(
                    "page.token", "is not a page token from this server"
                )
            after = state["s"]
        size = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
        rows = await self._store.list(projects, include_revoked, after, size + 1)
        page = [row for _, row in rows[:size]]
        next_token = encode_token({"s": rows[size - 1][0]}) if len(rows) > size else ""
        return page, next_token

    async def project_of(self, token_id: str) -> str | None:
        """The token's project ("" for a platform token), None if unknown."""
        row = await self._store.get(token_id)
        return None if row is None else (row.project or "*")

    async def revoke(self, token_id: str) -> None:
        if await self._store.get(token_id) is None:
            raise NotFound(f"no token {token_id!r}", resource=f"token:{token_id}")
        await self._store.revoke(token_id)
