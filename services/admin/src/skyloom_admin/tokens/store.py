"""Where tokens live: only the SHA-256 of each secret is stored (secrets have 256 bits of
entropy, so a plain hash is enough; no salt or slow KDF is needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

__all__ = ["PostgresTokenStore", "TokenRow", "TokenStore"]


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: str
    project: str
    role: int
    description: str
    secret_sha256: bytes
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenStore(Protocol):
    async def insert(self, row: TokenRow) -> None: ...

    async def get(self, token_id: str) -> TokenRow | None: ...

    async def list(
        self, projects: frozenset[str] | None, include_revoked: bool, after_seq: int, limit: int
    ) -> Sequence[tuple[int, TokenRow]]: ...

    async def revoke(self, token_id: str) -> None: ...

    async def touch(self, token_id: str) -> None: ...


_COLUMNS = (
    "id, project, role, description, secret_sha256, created_by, created_at, expires_at,"
    " revoked_at, last_used_at"
)


def _row(record: asyncpg.Record) -> TokenRow:
    return TokenRow(**{k: record[k] for k in _COLUMNS.replace(" ", "").split(",")})


class PostgresTokenStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def insert(self, row: TokenRow) -> None:
        await self._pool.execute(
            "INSERT INTO auth_tokens (id, project, role, description, secret_sha256, created_by,"
            " created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            row.id,
            row.project,
            row.role,
            row.description,
            row.secret_sha256,
            row.created_by,
            row.created_at,
            row.expires_at,
        )

    async def get(self, token_id: str) -> TokenRow | None:
        record = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM auth_tokens WHERE id = $1", token_id
        )
        return None if record is None else _row(record)

    async def list(
        self, projects: frozenset[str] | None, include_revoked: bool, after_seq: int, limit: int
    ) -> Sequence[tuple[int, TokenRow]]:
        records = await self._pool.fetch(
            f"SELECT seq, {_COLUMNS} FROM auth_tokens WHERE seq > $1"
            " AND ($2::text[] IS NULL OR project = ANY($2::text[]))"
            " AND ($3 OR revoked_at IS NULL) ORDER BY seq LIMIT $4",
            after_seq,
            None if projects is None else sorted(projects),
            include_revoked,
            limit,
        )
        return [(r["seq"], _row(r)) for r in records]

    async def revoke(self, token_id: str) -> None:
        await self._pool.execute(
            "UPDATE auth_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
            token_id,
        )

    async def touch(self, token_id: str) -> None:
        await self._pool.execute(
            "UPDATE auth_tokens SET last_used_at = now() WHERE id = $1"
            " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            token_id,
        )
