"""Driver errors map onto the domain errors a client can act on; everything else stays a bug."""

import asyncpg
import pytest

from skyloom_common.db import translate_error, translate_errors, validate_schema
from skyloom_common.errors import Aborted, AlreadyExists, NotFound, Unavailable


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (asyncpg.SerializationError("could not serialize"), Aborted),
        (asyncpg.DeadlockDetectedError("deadlock"), Aborted),
        (asyncpg.CannotConnectNowError("starting up"), Unavailable),
        (asyncpg.AdminShutdownError("terminating"), Unavailable),
        (asyncpg.ConnectionDoesNotExistError("closed mid-query"), Unavailable),
        (asyncpg.TooManyConnectionsError("too many"), Unavailable),
        (ConnectionRefusedError(111, "refused"), Unavailable),
        (asyncpg.InterfaceError("connection is closed"), Unavailable),
        (asyncpg.QueryCanceledError("statement timeout"), Unavailable),
    ],
)
def test_actionable_driver_errors_become_domain_errors(
    error: Exception, expected: type[Exception]
) -> None:
    mapped = translate_error(error)
    assert isinstance(mapped, expected)
    assert getattr(mapped, "retryable", False) is True


@pytest.mark.parametrize(
    "error",
    [asyncpg.UndefinedTableError("no such table"), ValueError("bug"), KeyError("k")],
)
def test_other_errors_are_left_alone(error: Exception) -> None:
    assert translate_error(error) is error


def test_domain_errors_pass_through_unchanged() -> None:
    error = NotFound("gone")
    assert translate_error(error) is error


def test_translate_errors_keeps_the_driver_error_as_cause() -> None:
    cause = asyncpg.SerializationError("could not serialize")
    with pytest.raises(Aborted) as info, translate_errors():
        raise cause
    assert info.value.__cause__ is cause


def test_unique_violation_type_maps_to_already_exists() -> None:
    assert isinstance(translate_error(asyncpg.UniqueViolationError("dup")), AlreadyExists)


@pytest.mark.parametrize("name", ["admin", "_x1", "a" * 63])
def test_plain_schema_names_are_accepted(name: str) -> None:
    assert validate_schema(name) == name


@pytest.mark.parametrize("name", ["", "Admin", "1abc", 'a"; DROP TABLE x; --', "a-b", "a" * 64])
def test_schema_names_that_could_carry_sql_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="invalid schema name"):
        validate_schema(name)
