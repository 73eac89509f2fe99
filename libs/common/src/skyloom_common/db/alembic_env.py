"""The body of every service's alembic ``env.py``.

A service's ``migrations/env.py`` is two lines::

    from skyloom_common.db.alembic_env import run_migrations
    run_migrations()

and its migrations read their schema with :func:`migration_schema`::

    def upgrade() -> None:
        for statement in consumer_tables_ddl(migration_schema()):
            op.execute(statement)

Run through :func:`skyloom_common.db.migrate` (the normal path) the connection, schema, advisory
lock and ``search_path`` are already set up. Run by the ``alembic`` CLI (an operator's escape
hatch), ``sqlalchemy.url`` and ``skyloom.schema`` come from the ini file; ``--sql`` (offline
mode) prints the SQL instead of running it.
"""

from __future__ import annotations

import asyncio

from alembic import context, op
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from skyloom_common.db.errors import MigrationError
from skyloom_common.db.identifiers import quote_ident, validate_schema

__all__ = ["migration_schema", "run_migrations"]


def migration_schema() -> str:
    """The schema the running migration belongs to (call from inside ``upgrade()``)."""
    schema = op.get_context().opts.get("version_table_schema")
    if not isinstance(schema, str):
        raise MigrationError("no schema: run migrations through skyloom_common.db.migrate()")
    return schema


def run_migrations() -> None:
    """Run the pending migrations of the current alembic invocation (see the module docstring)."""
    config = context.config
    schema = config.attributes.get("schema") or config.get_main_option("skyloom.schema")
    if not schema:
        raise MigrationError("no schema: set config.attributes['schema'] or skyloom.schema")
    validate_schema(schema)
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            version_table_schema=schema,
            literal_binds=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection, schema)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise MigrationError("no connection: set sqlalchemy.url or use skyloom_common.db.migrate()")
    asyncio.run(_run_from_url(url, schema))


def _run(connection: Connection, schema: str) -> None:
    context.configure(
        connection=connection, version_table_schema=schema, transaction_per_migration=True
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str, schema: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"))
            await conn.execute(text(f"SET search_path TO {quote_ident(schema)}"))
            await conn.commit()
            await conn.run_sync(_run, schema)
            await conn.commit()
    finally:
        await engine.dispose()
