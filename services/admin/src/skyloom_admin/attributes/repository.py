"""Attributes stored per scope (project, domain or "", workflow or "")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import asyncpg

from skyloom_idl.admin import attributes_pb2

__all__ = ["AttributeRepository", "PostgresAttributes"]

Scope = attributes_pb2.AttributesScope


class AttributeRepository(Protocol):
    async def put(self, scope: Scope, attributes: attributes_pb2.MatchingAttributes) -> None: ...

    async def get_many(
        self, scopes: Sequence[Scope]
    ) -> dict[tuple[str, str, str], attributes_pb2.MatchingAttributes]: ...

    async def delete(self, scope: Scope) -> None: ...

    async def list(self, project: str) -> list[attributes_pb2.ScopedAttributes]: ...


def _key(scope: Scope) -> tuple[str, str, str]:
    return (scope.project, scope.domain, scope.workflow)


class PostgresAttributes:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def put(self, scope: Scope, attributes: attributes_pb2.MatchingAttributes) -> None:
        await self._pool.execute(
            "INSERT INTO attributes (project, domain, workflow, attributes) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (project, domain, workflow)"
            " DO UPDATE SET attributes = EXCLUDED.attributes, updated_at = now()",
            *_key(scope),
            attributes.SerializeToString(deterministic=True),
        )

    async def get_many(
        self, scopes: Sequence[Scope]
    ) -> dict[tuple[str, str, str], attributes_pb2.MatchingAttributes]:
        if not scopes:
            return {}
        records = await self._pool.fetch(
            "SELECT project, domain, workflow, attributes FROM attributes"
            " WHERE (project, domain, workflow) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))",
            [s.project for s in scopes],
            [s.domain for s in scopes],
            [s.workflow for s in scopes],
        )
        return {
            (
                r["project"],
                r["domain"],
                r["workflow"],
            ): attributes_pb2.MatchingAttributes.FromString(r["attributes"])
            for r in records
        }

    async def delete(self, scope: Scope) -> None:
        await self._pool.execute(
            "DELETE FROM attributes WHERE project = $1 AND domain = $2 AND workflow = $3",
            *_key(scope),
        )

    async def list(self, project: str) -> list[attributes_pb2.ScopedAttributes]:
        records = await self._pool.fetch(
            "SELECT project, domain, workflow, attributes FROM attributes"
            " WHERE $1 = '' OR project = $1 ORDER BY project, domain, workflow",
            project,
        )
        return [
            attributes_pb2.ScopedAttributes(
                scope=Scope(project=r["project"], domain=r["domain"], workflow=r["workflow"]),
                attributes=attributes_pb2.MatchingAttributes.FromString(r["attributes"]),
            )
            for r in records
        ]
