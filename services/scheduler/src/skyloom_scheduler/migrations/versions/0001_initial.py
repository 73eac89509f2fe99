"""Launch plans the scheduler knows, last-fire snapshots, the leader lease, the fires to send.

- ``launch_plans``: the active version of each launch plan name with a schedule or triggers,
  as applied from SKYLOOM_ENTITIES (``revision`` guards against redelivery and reordering) or
  from a resync with admin.
- ``fire_snapshots``: per launch plan name, the newest scheduled time already recorded; a
  restarted or new leader resumes after it.
- ``leader_lease``: one row per lease; ``epoch`` grows with every change of owner and fences
  every write of a leader (a stale leader's write matches no row).
- ``fires``: executions to start, keyed by their deterministic name; written by the leader
  (schedules) or by the event consumers (triggers), sent to admin by the dispatcher.
"""

from alembic import op

from skyloom_common.db.alembic_env import migration_schema
from skyloom_common.jetstream import consumer_tables_ddl, drop_consumer_tables_ddl

revision = "0001"
down_revision = None

STATEMENTS = [
    """
    CREATE TABLE launch_plans (
        key text PRIMARY KEY,
        project text NOT NULL,
        domain text NOT NULL,
        name text NOT NULL,
        revision bigint NOT NULL DEFAULT 0,
        active boolean NOT NULL,
        has_schedule boolean NOT NULL DEFAULT false,
        has_triggers boolean NOT NULL DEFAULT false,
        launch_plan bytea,
        activated_at timestamptz,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE fire_snapshots (
        schedule_key text PRIMARY KEY,
        last_fired_at timestamptz NOT NULL,
        epoch bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE leader_lease (
        name text PRIMARY KEY,
        owner text NOT NULL,
        epoch bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE fires (
        name text PRIMARY KEY,
        project text NOT NULL,
        domain text NOT NULL,
        launch_plan bytea NOT NULL,
        kind text NOT NULL,
        trigger text NOT NULL DEFAULT '',
        scheduled_at timestamptz NOT NULL,
        inputs bytea NOT NULL,
        catch_up boolean NOT NULL DEFAULT false,
        epoch bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        not_before timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        dispatched_at timestamptz,
        outcome text,
        error text
    )
    """,
    "CREATE INDEX fires_pending ON fires (not_before) WHERE dispatched_at IS NULL",
]


def upgrade() -> None:
    for statement in [*STATEMENTS, *consumer_tables_ddl(migration_schema())]:
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_consumer_tables_ddl(migration_schema()):
        op.execute(statement)
    for table in ("fires", "leader_lease", "fire_snapshots", "launch_plans"):
        op.execute(f"DROP TABLE {table}")
