"""Executions, their node and task executions, the event log, signals and notification jobs.

- ``executions``: one row per execution; ``closure`` is the serialized ``ExecutionClosure`` (the
  projection of the event log); indexed columns mirror what lists filter on. ``start_item`` is
  the serialized ``WorkItem`` that starts it (sent through the outbox at creation, or later when
  a concurrency slot frees: ``dispatched`` says whether it went out).
- ``execution_events``: the append-only event log (workflow, node and task events), one row per
  accepted event; ``seq`` is assigned under the per-execution lock, so ordering by ``seq`` within
  an execution is the order events were applied. ``applied`` says whether the event moved the
  projection (an out-of-order event is stored but not applied).
- ``node_executions`` / ``task_executions``: projections per node (and retry group) and per
  task attempt.
- ``signals``: gate-node values.
- ``notification_jobs``: notifications to deliver, written in the transaction that made an
  execution terminal and claimed by the dispatcher (an outbox of their own: a crash loses none).
Also the consumer tables (processed_messages, dead_letters) and the outbox, if revision 0001
did not create them (the DDL is idempotent).
"""

from alembic import op

from skyloom_common.db.alembic_env import migration_schema
from skyloom_common.jetstream import consumer_tables_ddl
from skyloom_common.outbox import outbox_ddl

revision = "0002"
down_revision = "0001"

STATEMENTS = [
    """
    CREATE TABLE executions (
        seq bigserial UNIQUE,
        project text NOT NULL,
        domain text NOT NULL,
        name text NOT NULL,
        phase smallint NOT NULL,
        mode smallint NOT NULL,
        principal text NOT NULL DEFAULT '',
        launch_plan_name text NOT NULL DEFAULT '',
        launch_plan_version text NOT NULL DEFAULT '',
        workflow_name text NOT NULL,
        workflow_version text NOT NULL,
        task_name text NOT NULL DEFAULT '',
        parent_name text NOT NULL DEFAULT '',
        state smallint NOT NULL DEFAULT 1,
        labels jsonb NOT NULL DEFAULT '{}',
        spec bytea NOT NULL,
        closure bytea NOT NULL,
        start_item bytea NOT NULL,
        dispatched boolean NOT NULL DEFAULT true,
        lp_limit integer,
        quota_limit integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        ended_at timestamptz,
        PRIMARY KEY (project, domain, name)
    )
    """,
    "CREATE INDEX executions_page ON executions (project, domain, created_at, seq)",
    """CREATE INDEX executions_active_lp ON executions (project, domain, launch_plan_name)
       WHERE phase NOT IN (4, 6, 8, 9)""",
    "CREATE INDEX executions_waiting ON executions (project, domain, seq) WHERE NOT dispatched",
    """
    CREATE TABLE execution_events (
        seq bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        project text NOT NULL,
        domain text NOT NULL,
        execution_name text NOT NULL,
        kind smallint NOT NULL,
        node_id text NOT NULL DEFAULT '',
        retry_group integer NOT NULL DEFAULT 0,
        retry_attempt integer NOT NULL DEFAULT 0,
        phase smallint NOT NULL,
        phase_version integer NOT NULL DEFAULT 0,
        applied boolean NOT NULL,
        occurred_at timestamptz,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        payload bytea NOT NULL
    )
    """,
    "CREATE INDEX execution_events_exec ON execution_events (project, domain, execution_name, seq)",
    """
    CREATE TABLE node_executions (
        seq bigserial UNIQUE,
        project text NOT NULL,
        domain text NOT NULL,
        execution_name text NOT NULL,
        node_id text NOT NULL,
        retry_group integer NOT NULL DEFAULT 0,
        parent_node_id text NOT NULL DEFAULT '',
        phase smallint NOT NULL,
        cache_status smallint NOT NULL DEFAULT 0,
        input_uri text NOT NULL DEFAULT '',
        closure bytea NOT NULL,
        metadata bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        ended_at timestamptz,
        PRIMARY KEY (project, domain, execution_name, node_id, retry_group)
    )
    """,
    """CREATE INDEX node_executions_parent
       ON node_executions (project, domain, execution_name, parent_node_id, created_at, seq)""",
    """
    CREATE TABLE task_executions (
        seq bigserial UNIQUE,
        project text NOT NULL,
        domain text NOT NULL,
        execution_name text NOT NULL,
        node_id text NOT NULL,
        retry_attempt integer NOT NULL,
        retry_group integer NOT NULL DEFAULT 0,
        task_project text NOT NULL,
        task_domain text NOT NULL,
        task_name text NOT NULL,
        task_version text NOT NULL,
        phase smallint NOT NULL,
        phase_version integer NOT NULL DEFAULT 0,
        input_uri text NOT NULL DEFAULT '',
        closure bytea NOT NULL,
        is_parent boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        PRIMARY KEY (project, domain, execution_name, node_id, retry_attempt)
    )
    """,
    """
    CREATE TABLE signals (
        seq bigserial UNIQUE,
        project text NOT NULL,
        domain text NOT NULL,
        execution_name text NOT NULL,
        signal_id text NOT NULL,
        type bytea NOT NULL,
        value bytea,
        node_id text NOT NULL DEFAULT '',
        set_by text NOT NULL DEFAULT '',
        comment text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        set_at timestamptz,
        PRIMARY KEY (project, domain, execution_name, signal_id)
    )
    """,
    """
    CREATE TABLE notification_jobs (
        id bigserial PRIMARY KEY,
        job_key text NOT NULL UNIQUE,
        kind text NOT NULL,
        notification bytea NOT NULL,
        execution bytea NOT NULL,
        event_id text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        failed_at timestamptz,
        last_error text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """CREATE INDEX notification_jobs_due ON notification_jobs (next_attempt_at)
       WHERE delivered_at IS NULL AND failed_at IS NULL""",
]

DROPS = [
    "DROP TABLE IF EXISTS notification_jobs",
    "DROP TABLE IF EXISTS signals",
    "DROP TABLE IF EXISTS task_executions",
    "DROP TABLE IF EXISTS node_executions",
    "DROP TABLE IF EXISTS execution_events",
    "DROP TABLE IF EXISTS executions",
]


def upgrade() -> None:
    schema = migration_schema()
    for statement in [*consumer_tables_ddl(schema), *outbox_ddl(schema), *STATEMENTS]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROPS:
        op.execute(statement)
