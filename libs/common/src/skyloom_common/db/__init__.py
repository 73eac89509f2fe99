"""Postgres runtime: asyncpg pools, transactions, error mapping and alembic migrations.

The migration names (``migrate``, ``current_revision``, ``sqlalchemy_url``, ``migration_schema``,
``run_migrations``) are loaded on first use: they import alembic and SQLAlchemy, about a second
of start-up that processes which only publish or consume should not pay.
"""

from typing import TYPE_CHECKING, Any

from skyloom_common.db.errors import (
    DatabaseError,
    MigrationError,
    is_unavailable,
    translate_error,
    translate_errors,
)
from skyloom_common.db.identifiers import quote_ident, validate_schema
from skyloom_common.db.pool import Connection, Isolation, create_pool, transaction

if TYPE_CHECKING:
    from skyloom_common.db.alembic_env import migration_schema, run_migrations
    from skyloom_common.db.migrations import current_revision, migrate, sqlalchemy_url

__all__ = [
    "Connection",
    "DatabaseError",
    "Isolation",
    "MigrationError",
    "create_pool",
    "current_revision",
    "is_unavailable",
    "migrate",
    "migration_schema",
    "quote_ident",
    "run_migrations",
    "sqlalchemy_url",
    "transaction",
    "translate_error",
    "translate_errors",
    "validate_schema",
]

_LAZY = {
    "current_revision": "skyloom_common.db.migrations",
    "migrate": "skyloom_common.db.migrations",
    "sqlalchemy_url": "skyloom_common.db.migrations",
    "migration_schema": "skyloom_common.db.alembic_env",
    "run_migrations": "skyloom_common.db.alembic_env",
}


def __getattr__(name: str) -> Any:
    # PEP 562 lazy attribute; the only code in this __init__ (see the docstring for why).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
