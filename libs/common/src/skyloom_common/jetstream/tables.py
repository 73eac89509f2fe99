"""The consumer-side tables, as DDL a service's migration runs, and their upkeep.

``processed_messages`` remembers every message id a consumer applied (primary key
``(consumer, msg_id)``), written in the same transaction as the effect. ``dead_letters`` keeps
messages a handler refused ``max_deliveries`` times, with payload, headers and the last error,
for an operator to inspect and replay.

In a service's first migration::

    for statement in consumer_tables_ddl(migration_schema()):
        op.execute(statement)
"""

from __future__ import annotations

from dataclasses import dataclass

from skyloom_common.db import Connection, quote_ident

__all__ = ["ConsumerTables", "consumer_tables_ddl", "drop_consumer_tables_ddl", "prune_processed"]


@dataclass(frozen=True)
class ConsumerTables:
    """Qualified names of the consumer tables in ``schema``."""

    schema: str

    @property
    def processed(self) -> str:
        return f"{quote_ident(self.schema)}.processed_messages"

    @property
    def dead_letters(self) -> str:
        return f"{quote_ident(self.schema)}.dead_letters"


def consumer_tables_ddl(schema: str) -> list[str]:
    """``CREATE`` statements for ``processed_messages`` and ``dead_letters`` in ``schema``."""
    t = ConsumerTables(schema)
    return [
        f"""CREATE TABLE IF NOT EXISTS {t.processed} (
            consumer     text        NOT NULL,
            msg_id       text        NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, msg_id)
        )""",
        f"CREATE INDEX IF NOT EXISTS processed_messages_at ON {t.processed} (processed_at)",
        f"""CREATE TABLE IF NOT EXISTS {t.dead_letters} (
            consumer      text        NOT NULL,
            msg_id        text        NOT NULL,
            stream        text        NOT NULL,
            stream_seq    bigint      NOT NULL,
            subject       text        NOT NULL,
            headers       jsonb       NOT NULL,
            payload       bytea       NOT NULL,
            error         text        NOT NULL,
            num_delivered integer     NOT NULL,
            dead_at       timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, msg_id)
        )""",
    ]


def drop_consumer_tables_ddl(schema: str) -> list[str]:
    """The ``downgrade()`` counterpart of :func:`consumer_tables_ddl`."""
    t = ConsumerTables(schema)
    return [f"DROP TABLE IF EXISTS {t.dead_letters}", f"DROP TABLE IF EXISTS {t.processed}"]


async def prune_processed(conn: Connection, schema: str, older_than_seconds: float) -> int:
    """Forget processed ids older than ``older_than_seconds``; returns how many were removed.

    Keep them longer than any message can come back: the stream's ``duplicate_window`` plus the
    longest outbox relay outage plus the longest consumer outage (a week is a sane default).
    """
    status = await conn.execute(
        f"DELETE FROM {ConsumerTables(schema).processed} "
        "WHERE processed_at < now() - make_interval(secs => $1)",
        older_than_seconds,
    )
    return int(status.rsplit(" ", 1)[-1])
