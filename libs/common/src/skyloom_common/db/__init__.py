"""Postgres runtime: asyncpg pools, transactions, error mapping and alembic migrations."""

from skyloom_common.db.alembic_env import migration_schema, run_migrations
from skyloom_common.db.errors import (
    DatabaseError,
    MigrationError,
    is_unavailable,
    translate_error,
    translate_errors,
)
from skyloom_common.db.identifiers import quote_ident, validate_schema
from skyloom_common.db.migrate import current_revision, migrate, sqlalchemy_url
from skyloom_common.db.pool import Connection, Isolation, create_pool, transaction

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
