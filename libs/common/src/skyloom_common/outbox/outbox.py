"""The write side of the transactional outbox, and its DDL.

A service announces a state change by writing an outbox row in the SAME transaction as the
change itself, so either both commit or neither does::

    outbox = Outbox(schema="admin")
    async with transaction(pool) as conn:
        await conn.execute("INSERT INTO executions ...")
        await outbox.enqueue(conn, "skyloom.work.3", payload, msg_id=execution_id)

The :class:`~skyloom_common.outbox.relay.OutboxRelay` publishes the row later with
``Nats-Msg-Id = msg_id``. ``enqueue`` also sends a NOTIFY (delivered at commit) that wakes the
relay; it is only a hint, the relay polls too.

The table (``<schema>.outbox``) comes from the service's migrations::

    for statement in outbox_ddl(migration_schema()):
        op.execute(statement)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from skyloom_common.db import Connection, quote_ident, validate_schema
from skyloom_common.jetstream import trace_headers
from skyloom_common.outbox.errors import NotInTransaction

__all__ = ["Outbox", "drop_outbox_ddl", "outbox_ddl"]


@dataclass(frozen=True)
class Outbox:
    """The outbox of one schema: enqueue rows, measure the backlog, prune published rows."""

    schema: str

    def __post_init__(self) -> None:
        validate_schema(self.schema)

    @property
    def table(self) -> str:
        return f"{quote_ident(self.schema)}.outbox"

    @property
    def channel(self) -> str:
        """The LISTEN/NOTIFY channel of this outbox (at most 63 bytes, as Postgres requires)."""
        return f"skyloom_outbox_{self.schema}"[:63]

    async def enqueue(
        self,
        conn: Connection,
        subject: str,
        payload: bytes,
        msg_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        """Add a message to publish once the caller's transaction commits.

        ``msg_id`` is the deterministic id JetStream dedupes on; enqueueing an id already in
        the table is a no-op and returns False. The current trace context is stored with the
        headers, so the published message links back to the request that caused it.
        Raises :class:`NotInTransaction` outside a transaction.
        """
        if not conn.is_in_transaction():
            raise NotInTransaction("outbox.enqueue() must run inside the caller's transaction")
        if not msg_id:
            raise ValueError("msg_id must be a non-empty deterministic id")
        row = await conn.fetchval(
            f"INSERT INTO {self.table} (msg_id, subject, payload, headers)"
            " VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (msg_id) DO NOTHING RETURNING id",
            msg_id,
            subject,
            payload,
            json.dumps(trace_headers(headers)),
        )
        if row is None:
            return False
        await conn.execute("SELECT pg_notify($1, '')", self.channel)
        return True

    async def backlog(self, conn: Connection) -> int:
        """How many rows wait to be published."""
        count = await conn.fetchval(f"SELECT count(*) FROM {self.table} WHERE published_at IS NULL")
        return int(count)

    async def prune(self, conn: Connection, older_than_seconds: float) -> int:
        """Delete rows published more than ``older_than_seconds`` ago; returns how many."""
        status = await conn.execute(
            f"DELETE FROM {self.table} WHERE published_at < now() - make_interval(secs => $1)",
            older_than_seconds,
        )
        return int(status.rsplit(" ", 1)[-1])


def outbox_ddl(schema: str) -> list[str]:
    """``CREATE`` statements for ``<schema>.outbox``.

    ``id`` only orders rows for publishing; the relay never reads "ids above the last one seen"
    (bigserial values commit out of order), it claims unpublished rows with SKIP LOCKED through
    the partial index on ``published_at IS NULL``.
    """
    table = Outbox(schema).table
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            id           bigserial   PRIMARY KEY,
            msg_id       text        NOT NULL UNIQUE,
            subject      text        NOT NULL,
            payload      bytea       NOT NULL,
            headers      jsonb       NOT NULL DEFAULT '{{}}',
            created_at   timestamptz NOT NULL DEFAULT now(),
            published_at timestamptz
        )""",
        f"CREATE INDEX IF NOT EXISTS outbox_unpublished ON {table} (id) WHERE published_at IS NULL",
        f"CREATE INDEX IF NOT EXISTS outbox_published_at ON {table} (published_at) "
        "WHERE published_at IS NOT NULL",
    ]


def drop_outbox_ddl(schema: str) -> list[str]:
    """The ``downgrade()`` counterpart of :func:`outbox_ddl`."""
    return [f"DROP TABLE IF EXISTS {Outbox(schema).table}"]
