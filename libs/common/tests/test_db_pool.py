"""The pool enforces its settings, transactions commit or roll back, errors arrive mapped."""

from pathlib import Path

import pytest

from skyloom_common.db import create_pool, transaction
from skyloom_common.errors import AlreadyExists, Unavailable
from skyloom_testing.postgres import PostgresServer

pytestmark = pytest.mark.integration


async def test_transaction_commits_on_success_and_rolls_back_on_error(postgres_dsn: str) -> None:
    pool = await create_pool(postgres_dsn, max_size=2)
    try:
        async with transaction(pool) as conn:
            await conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
            await conn.execute("INSERT INTO t VALUES (1)")

        async def insert_then_fail() -> None:
            async with transaction(pool) as conn:
                await conn.execute("INSERT INTO t VALUES (2)")
                raise RuntimeError("changed my mind")

        with pytest.raises(RuntimeError, match="changed my mind"):
            await insert_then_fail()
        assert await pool.fetchval("SELECT array_agg(id) FROM t") == [1]
    finally:
        await pool.close()


async def test_unique_violation_surfaces_as_already_exists(postgres_dsn: str) -> None:
    pool = await create_pool(postgres_dsn, max_size=2)
    try:
        await pool.execute("CREATE TABLE t (id int CONSTRAINT t_pk PRIMARY KEY)")
        await pool.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(AlreadyExists) as info:
            async with transaction(pool) as conn:
                await conn.execute("INSERT INTO t VALUES (1)")
        assert info.value.reason == "UNIQUE_VIOLATION"
        assert info.value.metadata == {"constraint": "t_pk", "table": "t"}
    finally:
        await pool.close()


async def test_statement_timeout_cancels_runaway_queries(postgres_dsn: str) -> None:
    pool = await create_pool(postgres_dsn, max_size=1, statement_timeout=0.2)
    try:
        with pytest.raises(Unavailable) as info:
            async with transaction(pool) as conn:
                await conn.execute("SELECT pg_sleep(5)")
        assert info.value.reason == "STATEMENT_TIMEOUT"
        assert await pool.fetchval("SHOW statement_timeout") == "200ms"
    finally:
        await pool.close()


async def test_schema_sets_the_search_path(postgres_dsn: str) -> None:
    pool = await create_pool(postgres_dsn, schema="svc", application_name="skyloom-test")
    try:
        await pool.execute("CREATE SCHEMA svc; CREATE TABLE things (x int)")
        where = await pool.fetchval(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'things'"
        )
        assert where == "svc"
        assert await pool.fetchval("SHOW application_name") == "skyloom-test"
    finally:
        await pool.close()


async def test_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable):
        await create_pool(f"postgresql://postgres@/x?host={tmp_path}", connect_timeout=2)


async def test_bad_pool_bounds_are_rejected() -> None:
    with pytest.raises(ValueError, match="bad pool bounds"):
        await create_pool("postgresql://x@/y", min_size=5, max_size=2)


async def test_pool_reports_a_crash_as_unavailable_then_recovers(
    postgres_private_server: PostgresServer,
) -> None:
    server = postgres_private_server
    pool = await create_pool(server.dsn(), min_size=1, max_size=2, connect_timeout=2)
    try:
        await pool.execute("CREATE TABLE t (x int)")
        server.crash()
        with pytest.raises(Unavailable):
            async with transaction(pool) as conn:
                await conn.execute("INSERT INTO t VALUES (1)")
        server.start()
        async with transaction(pool) as conn:
            await conn.execute("INSERT INTO t VALUES (2)")
        assert await pool.fetchval("SELECT array_agg(x) FROM t") == [2]
    finally:
        await pool.close()


@pytest.mark.parametrize(("reset_session", "after_release"), [(True, "4MB"), (False, "8MB")])
async def test_reset_session_controls_whether_session_state_survives_release(
    postgres_dsn: str, reset_session: bool, after_release: str
) -> None:
    pool = await create_pool(postgres_dsn, max_size=1, reset_session=reset_session)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET work_mem = '8MB'")
        assert await pool.fetchval("SHOW work_mem") == after_release
        # An open transaction is rolled back on release either way.
        conn = await pool.acquire()
        await conn.execute("BEGIN; CREATE TABLE leaked (x int)")
        await pool.release(conn)
        assert await pool.fetchval("SELECT to_regclass('leaked') IS NULL")
    finally:
        await pool.close()
