"""Errors of the Postgres runtime, and the mapping of driver errors onto the domain errors.

    DatabaseError           base of the errors this package raises on its own
    └── MigrationError      a migration script directory or revision is unusable

Driver errors are not wrapped in ``DatabaseError``: :func:`translate_error` turns the ones a caller
can act on into the runtime's domain errors (:mod:`skyloom_common.errors`), keeping the driver
error as ``__cause__``:

    23505 unique_violation                       -> AlreadyExists  (reason UNIQUE_VIOLATION,
                                                    metadata: constraint, table)
    40001 serialization_failure, 40P01 deadlock  -> Aborted        (retryable)
    class 08 connection errors, 57P01-57P03
    shutdown/starting up, 53300 too many
    connections, OSError, connect timeouts,
    a closed connection                          -> Unavailable    (retryable)
    57014 query_canceled (statement_timeout)     -> Unavailable    (reason STATEMENT_TIMEOUT)

Anything else is returned unchanged: it is a bug, and the runtime answers it with INTERNAL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import asyncpg

from skyloom_common.errors import Aborted, AlreadyExists, SkyloomError, Unavailable

__all__ = [
    "DatabaseError",
    "MigrationError",
    "is_unavailable",
    "translate_error",
    "translate_errors",
]


class DatabaseError(Exception):
    """Base of the errors raised by :mod:`skyloom_common.db` itself."""


class MigrationError(DatabaseError):
    """The migration scripts could not be applied (bad script location, unknown revision...)."""


_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    OSError,
    TimeoutError,
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "Postgres cannot be reached right now" (worth retrying later)."""
    if isinstance(exc, (Unavailable, *_UNAVAILABLE)):
        return True
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)


def translate_error(exc: BaseException) -> BaseException:
    """The domain error for a driver error (see the module docstring), else ``exc`` itself."""
    if isinstance(exc, SkyloomError):
        return exc
    if isinstance(exc, asyncpg.UniqueViolationError):
        metadata = {
            key: value
            for key, value in (("constraint", exc.constraint_name), ("table", exc.table_name))
            if value
        }
        return AlreadyExists(exc.detail or str(exc), reason="UNIQUE_VIOLATION", metadata=metadata)
    if isinstance(exc, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        return Aborted(f"concurrent update, retry: {exc}", reason="TRANSACTION_CONFLICT")
    if isinstance(exc, asyncpg.QueryCanceledError):
        return Unavailable(f"database statement cancelled: {exc}", reason="STATEMENT_TIMEOUT")
    if is_unavailable(exc):
        return Unavailable(f"database unavailable: {exc}", reason="DATABASE_UNAVAILABLE")
    return exc


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise driver errors raised inside the block as domain errors (see the docstring)."""
    try:
        yield
    except Exception as exc:
        mapped = translate_error(exc)
        if mapped is exc:
            raise
        raise mapped from exc
