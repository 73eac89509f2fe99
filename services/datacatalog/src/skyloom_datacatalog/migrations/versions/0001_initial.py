"""Datasets, artifacts, tags, partitions and reservations.

``seq`` columns give every row a total creation order, the tie-breaker of keyset pages.
Artifact values are one serialized ``LiteralMap`` (inline, size-capped by the service).
Reservations name a dataset by its four id fields and have no foreign key: a reservation may
be taken before the dataset it will fill exists (as in Flyte).
"""

from alembic import op

revision = "0001"
down_revision = None

STATEMENTS = [
    """
    CREATE TABLE datasets (
        id bigserial PRIMARY KEY,
        uuid uuid NOT NULL UNIQUE,
        project text NOT NULL,
        domain text NOT NULL,
        name text NOT NULL,
        version text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        partition_keys text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT datasets_key UNIQUE (project, domain, name, version)
    )
    """,
    "CREATE INDEX datasets_page ON datasets (created_at, id)",
    """
    CREATE TABLE artifacts (
        seq bigserial UNIQUE,
        dataset_id bigint NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        artifact_id text NOT NULL,
        data bytea NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        task_version text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (dataset_id, artifact_id)
    )
    """,
    "CREATE INDEX artifacts_page ON artifacts (dataset_id, created_at, seq)",
    """
    CREATE TABLE tags (
        seq bigserial UNIQUE,
        dataset_id bigint NOT NULL,
        tag_name text NOT NULL,
        artifact_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (dataset_id, tag_name),
        FOREIGN KEY (dataset_id, artifact_id)
            REFERENCES artifacts (dataset_id, artifact_id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX tags_artifact ON tags (dataset_id, artifact_id)",
    "CREATE INDEX tags_page ON tags (created_at, seq)",
    """
    CREATE TABLE partitions (
        dataset_id bigint NOT NULL,
        artifact_id text NOT NULL,
        key text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (dataset_id, artifact_id, key),
        FOREIGN KEY (dataset_id, artifact_id)
            REFERENCES artifacts (dataset_id, artifact_id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX partitions_lookup ON partitions (dataset_id, key, value)",
    """
    CREATE TABLE reservations (
        project text NOT NULL,
        domain text NOT NULL,
        name text NOT NULL,
        version text NOT NULL,
        tag_name text NOT NULL,
        owner_id text NOT NULL,
        heartbeat_seconds double precision NOT NULL,
        expires_at timestamptz NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project, domain, name, version, tag_name)
    )
    """,
    "CREATE INDEX reservations_expiry ON reservations (expires_at)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("reservations", "partitions", "tags", "artifacts", "datasets"):
        op.execute(f"DROP TABLE {table}")
