"""The bearer-token authenticator admin plugs into the runtime's ``AuthPolicy``.

Accepted credentials, in ``<header>: Bearer <token>``:

- a bootstrap token from config (``auth.static_tokens``): a platform admin;
- a token made by ``CreateAuthToken``: ``skl_<id>.<secret>``; the row for ``<id>`` must hold
  the SHA-256 of ``<secret>`` (compared in constant time), be unrevoked and unexpired.

Anything else, including a revoked or expired token, is ``UNAUTHENTICATED``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pydantic import SecretStr

from skyloom_admin.authz import ADMIN, PLATFORM, grant_scope
from skyloom_admin.tokens.store import TokenStore
from skyloom_common.errors import Unauthenticated
from skyloom_common.rpc import Metadata, Principal

__all__ = ["TOKEN_PREFIX", "TokenAuthenticator", "parse_token", "secret_hash"]

TOKEN_PREFIX = "skl_"
_DUMMY = hashlib.sha256(b"no such token").digest()


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_token(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a ``skl_<id>.<secret>`` token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, dot, secret = token[len(TOKEN_PREFIX) :].partition(".")
    if not dot or not token_id or not secret or len(token_id) > 64:
        return None
    return token_id, secret


class TokenAuthenticator:
    def __init__(
        self,
        store: TokenStore,
        bootstrap: Mapping[str, SecretStr],
        *,
        header: str = "authorization",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not bootstrap:
            raise ValueError("auth is enabled but no bootstrap token is configured")
        self._store = store
        self._bootstrap = [(n, t.get_secret_value().encode()) for n, t in bootstrap.items()]
        self._header = header.lower()
        self._clock = clock

    async def authenticate(self, metadata: Metadata) -> Principal:
        value = metadata.get(self._header)
        if value is None:
            raise Unauthenticated(f"missing {self._header} metadata", reason="MISSING_TOKEN")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(
                f"{self._header} must be 'Bearer <token>'", reason="MALFORMED_TOKEN"
            )
        presented = token.encode()
        matched: str | None = None
        for name, expected in self._bootstrap:
            if hmac.compare_digest(presented, expected):
                matched = name
        if matched is not None:
            return Principal(f"bootstrap:{matched}", frozenset({grant_scope(PLATFORM, ADMIN)}))
        parsed = parse_token(token)
        row = await self._store.get(parsed[0]) if parsed is not None else None
        digest = secret_hash(parsed[1]) if parsed is not None else b""
        if row is None or not hmac.compare_digest(digest, row.secret_sha256):
            hmac.compare_digest(digest, _DUMMY)
            raise Unauthenticated("invalid token", reason="INVALID_TOKEN")
        if row.revoked_at is not None:
            raise Unauthenticated("token revoked", reason="REVOKED_TOKEN")
        if row.expires_at is not None and row.expires_at <= self._clock():
            raise Unauthenticated("token expired", reason="EXPIRED_TOKEN")
        await self._store.touch(row.id)
        return Principal(row.id, frozenset({grant_scope(row.project, row.role)}))
