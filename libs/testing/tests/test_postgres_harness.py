"""The Postgres fixtures give real, isolated databases and survive crashes and restarts."""

import time

import asyncpg
import pytest

from skyloom_testing.postgres import PostgresServer

pytestmark = pytest.mark.integration


async def test_each_test_gets_an_empty_database_of_its_own(
    postgres_dsn: str, postgres_server: PostgresServer
) -> None:
    conn = await asyncpg.connect(postgres_dsn)
    try:
        name = await conn.fetchval("SELECT current_database()")
        assert name != "postgres"
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname='public'") == 0
        await conn.execute("CREATE TABLE mine (x int)")
    finally:
        await conn.close()
    assert postgres_dsn.startswith("postgresql://postgres@/")


async def test_databases_are_dropped_after_the_test(postgres_server: PostgresServer) -> None:
    conn = await asyncpg.connect(postgres_server.dsn())
    try:
        leftovers = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%' AND datname <> $1",
            "unused",
        )
    finally:
        await conn.close()
    assert leftovers == []


async def test_committed_rows_survive_crash_and_sigkill(
    postgres_private_server: PostgresServer,
) -> None:
    server = postgres_private_server
    conn = await asyncpg.connect(server.dsn())
    await conn.execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
    await conn.close()

    server.crash()
    assert not server.is_running()
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(server.dsn(), timeout=2)
    started = time.monotonic()
    server.start()
    assert time.monotonic() - started < 10

    conn = await asyncpg.connect(server.dsn())
    await conn.execute("INSERT INTO t VALUES (2)")
    await conn.close()

    server.kill()
    assert not server.is_running()
    server.start()
    conn = await asyncpg.connect(server.dsn())
    try:
        assert [r["x"] for r in await conn.fetch("SELECT x FROM t ORDER BY x")] == [1, 2]
    finally:
        await conn.close()


def test_stop_is_idempotent(postgres_private_server: PostgresServer) -> None:
    postgres_private_server.stop()
    postgres_private_server.stop()
    assert not postgres_private_server.is_running()
