"""migrate() applies a service's alembic scripts into its schema, idempotently and race-free."""

import asyncio
import textwrap
from pathlib import Path

import asyncpg
import pytest

from skyloom_common.db import MigrationError, current_revision, migrate
from skyloom_common.errors import Unavailable
from skyloom_testing.procs import ChildProcesses

pytestmark = pytest.mark.integration

ENV_PY = "from skyloom_common.db.alembic_env import run_migrations\n\nrun_migrations()\n"

FIRST = """
from alembic import op
from skyloom_common.db import migration_schema

revision = "0001"
down_revision = None


def upgrade() -> None:
    # Slow on purpose: two unlocked concurrent upgrades would both get here and collide.
    op.execute("SELECT pg_sleep(0.5)")
    op.execute("CREATE TABLE widgets (id bigserial PRIMARY KEY, name text NOT NULL)")
    op.execute(f"COMMENT ON TABLE {migration_schema()}.widgets IS 'made by 0001'")


def downgrade() -> None:
    op.execute("DROP TABLE widgets")
"""

SECOND = """
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE widgets ADD COLUMN colour text")
    op.execute("INSERT INTO widgets (name) VALUES ('seed')")


def downgrade() -> None:
    op.execute("ALTER TABLE widgets DROP COLUMN colour")
"""


def make_scripts(root: Path, *versions: str) -> Path:
    """An alembic script directory like a service keeps next to its code."""
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(ENV_PY)
    for i, body in enumerate(versions, start=1):
        (root / "versions" / f"{i:04d}_v.py").write_text(textwrap.dedent(body))
    return root


async def fetch(dsn: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


async def test_migrate_creates_schema_tables_and_version_table(
    postgres_dsn: str, tmp_path: Path
) -> None:
    scripts = make_scripts(tmp_path / "m", FIRST, SECOND)
    assert await current_revision(postgres_dsn, "svc") is None

    assert await migrate(postgres_dsn, scripts, "svc") == "0002"

    tables = await fetch(
        postgres_dsn,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 2",
    )
    assert [tuple(r) for r in tables] == [("svc", "alembic_version"), ("svc", "widgets")]
    assert await current_revision(postgres_dsn, "svc") == "0002"


async def test_migrate_is_idempotent_and_applies_only_new_revisions(
    postgres_dsn: str, tmp_path: Path
) -> None:
    scripts = make_scripts(tmp_path / "m", FIRST)
    assert await migrate(postgres_dsn, scripts, "svc") == "0001"
    assert await migrate(postgres_dsn, scripts, "svc") == "0001"

    (scripts / "versions" / "0002_v.py").write_text(textwrap.dedent(SECOND))
    assert await migrate(postgres_dsn, scripts, "svc") == "0002"
    assert await migrate(postgres_dsn, scripts, "svc") == "0002"
    rows = await fetch(postgres_dsn, "SELECT name FROM svc.widgets")
    assert [r["name"] for r in rows] == ["seed"]  # 0002 ran exactly once


async def test_schemas_have_separate_histories(postgres_dsn: str, tmp_path: Path) -> None:
    scripts = make_scripts(tmp_path / "m", FIRST, SECOND)
    await migrate(postgres_dsn, scripts, "one", revision="0001")
    await migrate(postgres_dsn, scripts, "two")
    assert await current_revision(postgres_dsn, "one") == "0001"
    assert await current_revision(postgres_dsn, "two") == "0002"


def migrate_in_child(dsn: str, scripts: str, schema: str, out: str) -> None:
    revision = asyncio.run(migrate(dsn, scripts, schema))
    Path(out).write_text(str(revision))


async def test_two_replicas_migrating_at_once_both_succeed(
    postgres_dsn: str, tmp_path: Path, python_processes: ChildProcesses
) -> None:
    scripts = make_scripts(tmp_path / "m", FIRST, SECOND)
    outs = [tmp_path / "out1", tmp_path / "out2"]
    children = [
        python_processes.spawn(
            f"{__file__}:migrate_in_child", postgres_dsn, str(scripts), "svc", str(out)
        )
        for out in outs
    ]
    for child in children:
        rc = await asyncio.to_thread(child.wait, 60)
        assert rc == 0, child.output()
    assert [out.read_text() for out in outs] == ["0002", "0002"]
    assert [r["name"] for r in await fetch(postgres_dsn, "SELECT name FROM svc.widgets")] == [
        "seed"
    ]
    versions = await fetch(postgres_dsn, "SELECT version_num FROM svc.alembic_version")
    assert [tuple(v) for v in versions] == [("0002",)]


async def test_a_failing_migration_leaves_the_previous_revision(
    postgres_dsn: str, tmp_path: Path
) -> None:
    broken = SECOND.replace("ADD COLUMN colour text", "ADD COLUMN colour no_such_type")
    scripts = make_scripts(tmp_path / "m", FIRST, broken)
    with pytest.raises(Exception, match="no_such_type"):
        await migrate(postgres_dsn, scripts, "svc")
    assert await current_revision(postgres_dsn, "svc") == "0001"
    # The lock was released: a fixed script directory migrates fine.
    (scripts / "versions" / "0002_v.py").write_text(textwrap.dedent(SECOND))
    assert await migrate(postgres_dsn, scripts, "svc") == "0002"


async def test_unusable_scripts_raise_migration_error(postgres_dsn: str, tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="not an alembic script directory"):
        await migrate(postgres_dsn, tmp_path / "nowhere", "svc")
    scripts = make_scripts(tmp_path / "m", FIRST)
    with pytest.raises(MigrationError, match="cannot upgrade"):
        await migrate(postgres_dsn, scripts, "svc", revision="9999")


async def test_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    scripts = make_scripts(tmp_path / "m", FIRST)
    with pytest.raises(Unavailable):
        await migrate(f"postgresql://postgres@/x?host={tmp_path}", scripts, "svc")


async def test_bad_schema_name_is_rejected_before_connecting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid schema name"):
        await migrate("postgresql://nobody@/x", tmp_path, "Robert'); DROP TABLE students;--")
