"""Projects, registered entities (tasks, workflows, launch plans), attributes, auth tokens,
and the transactional outbox.

Entities are immutable rows keyed by (project, domain, name, version); ``seq`` gives every
row a total creation order, the tie-breaker of keyset pages. Serialized protobufs are stored
as ``bytea``; the columns next to them exist only to filter and sort on.
At most one launch plan version per (project, domain, name) is ACTIVE (state 2): a partial
unique index enforces it. Executions, events and signals come in revision 0002.
"""

from alembic import op

from skyloom_common.db.alembic_env import migration_schema
from skyloom_common.outbox import drop_outbox_ddl, outbox_ddl

revision = "0001"
down_revision = None

_ENTITY_COLUMNS = """
        seq bigserial UNIQUE,
        project text NOT NULL,
        domain text NOT NULL,
        name text NOT NULL,
        version text NOT NULL,
        digest text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
"""

STATEMENTS = [
    """
    CREATE TABLE projects (
        seq bigserial UNIQUE,
        id text PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        labels jsonb NOT NULL DEFAULT '{}',
        state smallint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    f"""
    CREATE TABLE tasks ({_ENTITY_COLUMNS}
        closure bytea NOT NULL,
        PRIMARY KEY (project, domain, name, version)
    )
    """,
    f"""
    CREATE TABLE workflows ({_ENTITY_COLUMNS}
        closure bytea NOT NULL,
        PRIMARY KEY (project, domain, name, version)
    )
    """,
    f"""
    CREATE TABLE launch_plans ({_ENTITY_COLUMNS}
        spec bytea NOT NULL,
        closure bytea NOT NULL,
        state smallint NOT NULL,
        workflow_name text NOT NULL,
        workflow_version text NOT NULL,
        has_schedule boolean NOT NULL,
        has_triggers boolean NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project, domain, name, version)
    )
    """,
    "CREATE UNIQUE INDEX launch_plans_one_active ON launch_plans (project, domain, name)"
    " WHERE state = 2",
    """
    CREATE TABLE launch_plan_revisions (
        project text NOT NULL,
        domain text NOT NULL,
        name text NOT NULL,
        revision bigint NOT NULL,
        PRIMARY KEY (project, domain, name)
    )
    """,
    """
    CREATE TABLE attributes (
        project text NOT NULL,
        domain text NOT NULL DEFAULT '',
        workflow text NOT NULL DEFAULT '',
        attributes bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project, domain, workflow)
    )
    """,
    """
    CREATE TABLE auth_tokens (
        seq bigserial UNIQUE,
        id text PRIMARY KEY,
        project text NOT NULL,
        role smallint NOT NULL,
        description text NOT NULL DEFAULT '',
        secret_sha256 bytea NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz
    )
    """,
]


def upgrade() -> None:
    for statement in [*STATEMENTS, *outbox_ddl(migration_schema())]:
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_outbox_ddl(migration_schema()):
        op.execute(statement)
    for table in (
        "auth_tokens",
        "attributes",
        "launch_plan_revisions",
        "launch_plans",
        "workflows",
        "tasks",
        "projects",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
