"""An asyncpg pool built from configuration values, and a transaction helper.

The pool sets ``statement_timeout`` and ``application_name`` on every connection (server side, so
a runaway query is cancelled by Postgres itself) and, when a ``schema`` is given, a
``search_path`` of that schema only, so a service's plain SQL finds its own tables.

:func:`transaction` yields a pooled connection inside a transaction that commits when the block
exits normally and rolls back otherwise; driver errors leave the block translated into domain
errors (:mod:`skyloom_common.db.errors`), so a unique violation surfaces as ``AlreadyExists`` and
a lost connection as ``Unavailable``.

``reset_session=False`` skips the reset query asyncpg runs on every release (``RESET ALL``,
``UNLISTEN *``, ``pg_advisory_unlock_all()``, closing cursors): one round trip per pooled call.
asyncpg still rolls back an open transaction and drops listener callbacks. Only for services
whose pooled connections never ``SET`` session variables, ``LISTEN`` or take session advisory
locks (transaction-scoped ``SET LOCAL`` and ``pg_advisory_xact_lock`` end with the transaction).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal, TypeAlias

import asyncpg

from skyloom_common.db.errors import translate_errors
from skyloom_common.db.identifiers import quote_ident

__all__ = ["Connection", "Isolation", "create_pool", "transaction"]

Isolation = Literal["read_committed", "repeatable_read", "serializable"]

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # What handlers and repositories receive: a plain connection or a pooled one.
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection


async def create_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    statement_timeout: float | None = 30.0,
    connect_timeout: float = 10.0,
    schema: str | None = None,
    application_name: str = "skyloom",
    reset_session: bool = True,
) -> asyncpg.Pool:
    """Open a pool of ``min_size``..``max_size`` connections to ``dsn``.

    ``statement_timeout`` is in seconds (``None``: no limit). Raises ``Unavailable`` when Postgres
    cannot be reached within ``connect_timeout``. ``reset_session``: see the module docs. The
    caller closes the pool (``await pool.close()``), typically in its service's shutdown.
    """
    if min_size < 0 or max_size < 1 or min_size > max_size:
        raise ValueError(f"bad pool bounds: min_size={min_size}, max_size={max_size}")
    settings = {"application_name": application_name}
    if statement_timeout is not None:
        settings["statement_timeout"] = str(int(statement_timeout * 1000))
    if schema is not None:
        settings["search_path"] = quote_ident(schema)
    with translate_errors():
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout,
            server_settings=settings,
            reset=None if reset_session else _keep_session,
        )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """The release hook when ``reset_session=False``: nothing beyond asyncpg's own cleanup."""


@contextlib.asynccontextmanager
async def transaction(
    pool: asyncpg.Pool, *, isolation: Isolation = "read_committed"
) -> AsyncIterator[Connection]:
    """A pooled connection in a transaction: commit on normal exit, roll back on an exception."""
    with translate_errors():
        async with pool.acquire() as conn, conn.transaction(isolation=isolation):
            yield conn
