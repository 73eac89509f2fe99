"""Schema migrations through alembic: one schema, one script directory, one version table each.

A service keeps an alembic script directory (``env.py`` calling
:func:`skyloom_common.db.alembic_env.run_migrations`, ``script.py.mako``, ``versions/``) whose
migrations are plain SQL (``op.execute``), and its ``setup()`` calls::

    await migrate(dsn, Path(__file__).parent / "migrations", "admin")

Contract:
- The schema is created if missing; the version table is ``<schema>.alembic_version``; during the
  upgrade ``search_path`` is that schema alone, so unqualified DDL lands in it.
- Safe when replicas start at once: the upgrade runs under a session advisory lock keyed by the
  schema name, so one replica migrates while the others wait, then find nothing left to do.
- Idempotent: at head already, nothing runs.
- Raises ``Unavailable`` when Postgres cannot be reached and :class:`MigrationError` when the
  scripts or the revision are unusable; a failing migration's SQL error propagates as is.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from skyloom_common.db.errors import MigrationError, is_unavailable, translate_error
from skyloom_common.db.identifiers import quote_ident, validate_schema
from skyloom_common.errors import Unavailable

__all__ = ["current_revision", "migrate", "sqlalchemy_url"]


def sqlalchemy_url(dsn: str) -> str:
    """The SQLAlchemy URL (asyncpg driver) for an asyncpg/libpq style ``postgresql://`` DSN."""
    url = make_url(dsn)
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL DSN: {url.drivername}")
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def migrate(
    dsn: str, script_location: str | Path, schema: str, *, revision: str = "head"
) -> str | None:
    """Upgrade ``schema`` to ``revision`` (default: head); returns the revision now current."""
    validate_schema(schema)
    if not (Path(script_location) / "env.py").is_file():
        raise MigrationError(f"{script_location} is not an alembic script directory (no env.py)")
    return await _with_connection(dsn, _upgrade, str(script_location), schema, revision)


async def current_revision(dsn: str, schema: str) -> str | None:
    """The revision recorded in ``<schema>.alembic_version``, or None before the first upgrade."""
    validate_schema(schema)
    return await _with_connection(dsn, _read_revision, schema)


async def _with_connection(dsn: str, fn: object, *args: str) -> str | None:
    engine = create_async_engine(sqlalchemy_url(dsn), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result: str | None = await conn.run_sync(fn, *args)  # type: ignore[arg-type]
            return result
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, OSError) as exc:
        cause = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
        mapped = translate_error(cause if isinstance(cause, BaseException) else exc)
        if isinstance(mapped, Unavailable) or is_unavailable(exc):
            raise Unavailable(f"cannot migrate, database unavailable: {exc}") from exc
        raise
    finally:
        await engine.dispose()


def _upgrade(conn: Connection, script_location: str, schema: str, revision: str) -> str | None:
    lock_key = {"key": f"skyloom.migrate:{schema}"}
    # Session-level lock: it outlives the commits below and is released by the unlock in
    # `finally` or, if this process dies, by Postgres when the connection goes away.
    conn.execute(text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"), lock_key)
    conn.commit()
    try:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"))
        conn.execute(text(f"SET search_path TO {quote_ident(schema)}"))
        conn.commit()
        config = Config()
        config.set_main_option("script_location", script_location)
        config.attributes["connection"] = conn
        config.attributes["schema"] = schema
        try:
            command.upgrade(config, revision)
        except CommandError as exc:
            raise MigrationError(f"cannot upgrade schema {schema!r}: {exc}") from exc
        conn.commit()
        return _read_revision(conn, schema)
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"), lock_key)
        conn.commit()


def _read_revision(conn: Connection, schema: str) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table_schema": schema})
    revision = context.get_current_revision()
    if conn.in_transaction():
        conn.commit()
    return revision
