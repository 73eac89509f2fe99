"""Signals of gate nodes: created by the engine, set (type-checked) or approved by people."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from skyloom_admin.events.rows import timestamp
from skyloom_admin.events.validate import check_execution_id, check_node_id, raise_if
from skyloom_admin.listing import Column, Kind, Listing, Sql
from skyloom_common.db import Connection, transaction
from skyloom_common.errors import FailedPrecondition, NotFound
from skyloom_core import names, validation
from skyloom_core.build import bool_literal
from skyloom_core.errors import Violation
from skyloom_idl.admin import common_pb2, signal_pb2
from skyloom_idl.core import identifier_pb2, literals_pb2, types_pb2

__all__ = ["SIGNAL_LISTING", "SignalManager", "check_signal_id"]

_COLS = "signal_id, type, value, node_id, set_by, comment, created_at, set_at"
SIGNAL_LISTING = Listing(
    columns={
        "signal_id": Column("signal_id"),
        "state": Column(
            "(CASE WHEN value IS NULL THEN 1 ELSE 2 END)",
            Kind.ENUM,
            sortable=False,
            enum_values=dict(signal_pb2.Signal.State.items()),
        ),
        "created_at": Column("created_at", Kind.TIME),
    },
    tiebreak="seq",
    default_ascending=True,
)


def check_signal_id(id: identifier_pb2.SignalIdentifier, path: str = "id") -> list[Violation]:
    out = check_execution_id(id.execution_id, f"{path}.execution_id")
    out += names.validate_node_id(id.signal_id, f"{path}.signal_id")
    return out


def _signal(row: asyncpg.Record, id: identifier_pb2.SignalIdentifier) -> signal_pb2.Signal:
    sig = signal_pb2.Signal(id=id, set_by=row["set_by"], comment=row["comment"])
    sig.id.signal_id = row["signal_id"]
    sig.type.ParseFromString(row["type"])
    sig.node_execution_id.execution_id.CopyFrom(id.execution_id)
    sig.node_execution_id.node_id = row["node_id"]
    sig.created_at.CopyFrom(timestamp(row["created_at"]))
    if row["value"] is None:
        sig.state = signal_pb2.Signal.STATE_WAITING
    else:
        sig.state = signal_pb2.Signal.STATE_SET
        sig.value.ParseFromString(row["value"])
        sig.set_at.CopyFrom(timestamp(row["set_at"]))
    return sig


class SignalManager:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get_or_create(
        self, request: signal_pb2.GetOrCreateSignalRequest
    ) -> signal_pb2.Signal:
        out = check_signal_id(request.id)
        if request.type.WhichOneof("type") is None:
            out.append(Violation("type", "the signal's type is required"))
        if request.node_execution_id.node_id:
            out += check_node_id(request.node_execution_id.node_id, "node_execution_id.node_id")
        raise_if(out, "GetOrCreateSignal request")
        e = request.id.execution_id
        async with transaction(self._pool) as conn:
            if not await conn.fetchval(
                "SELECT true FROM executions WHERE project = $1 AND domain = $2 AND name = $3",
                e.project, e.domain, e.name,
            ):  # fmt: skip
                raise NotFound(f"execution {e.name} not found", resource=f"execution:{e.name}")
            await conn.execute(
                "INSERT INTO signals (project, domain, execution_name, signal_id, type, node_id)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                e.project, e.domain, e.name, request.id.signal_id,
                request.type.SerializeToString(deterministic=True),
                request.node_execution_id.node_id,
            )  # fmt: skip
            row = await self._row(conn, request.id)
        sig = _signal(row, request.id)
        if sig.type != request.type:
            raise FailedPrecondition(
                f"signal {request.id.signal_id} exists with another type", reason="TYPE_MISMATCH"
            )
        return sig

    async def _row(
        self, conn: Connection, id: identifier_pb2.SignalIdentifier, lock: bool = False
    ) -> asyncpg.Record:
        e = id.execution_id
        row = await conn.fetchrow(
            f"SELECT {_COLS} FROM signals WHERE project = $1 AND domain = $2"
            f" AND execution_name = $3 AND signal_id = $4{' FOR UPDATE' if lock else ''}",
            e.project, e.domain, e.name, id.signal_id,
        )  # fmt: skip
        if row is None:
            raise NotFound(
                f"signal {id.signal_id} of execution {e.name} not found",
                resource=f"signal:{e.project}/{e.domain}/{e.name}/{id.signal_id}",
            )
        return row

    async def set(
        self,
        id: identifier_pb2.SignalIdentifier,
        value: literals_pb2.Literal,
        comment: str,
        principal: str,
        *,
        value_path: str = "value",
    ) -> signal_pb2.Signal:
        raise_if(check_signal_id(id), "signal id")
        async with transaction(self._pool) as conn:
            row = await self._row(conn, id, lock=True)
            expected = types_pb2.LiteralType()
            expected.ParseFromString(row["type"])
            raise_if(validation.validate_literal(value, expected, value_path), "signal value")
            data = value.SerializeToString(deterministic=True)
            if row["value"] is not None:
                if bytes(row["value"]) == data:
                    return _signal(row, id)
                raise FailedPrecondition(
                    f"signal {id.signal_id} is already set to another value", reason="ALREADY_SET"
                )
            e = id.execution_id
            await conn.execute(
                "UPDATE signals SET value = $5, set_by = $6, comment = $7, set_at = $8"
                " WHERE project = $1 AND domain = $2 AND execution_name = $3 AND signal_id = $4",
                e.project, e.domain, e.name, id.signal_id, data, principal, comment,
                datetime.now(UTC),
            )  # fmt: skip
            return _signal(await self._row(conn, id), id)

    async def approve(
        self, request: signal_pb2.ApproveSignalRequest, principal: str
    ) -> signal_pb2.Signal:
        D = signal_pb2.ApproveSignalRequest.Decision
        if request.decision not in (D.DECISION_APPROVE, D.DECISION_REJECT):
            raise_if(
                [Violation("decision", "must be DECISION_APPROVE or DECISION_REJECT")],
                "ApproveSignal",
            )
        approved = request.decision == D.DECISION_APPROVE
        return await self.set(
            request.id, bool_literal(approved), request.comment, principal, value_path="decision"
        )

    async def list(self, request: signal_pb2.ListSignalsRequest) -> signal_pb2.ListSignalsResponse:
        e = request.execution_id
        raise_if(check_execution_id(e, "execution_id"), "ListSignals request")
        sql = Sql()
        where = [
            f"project = {sql.param(e.project)}", f"domain = {sql.param(e.domain)}",
            f"execution_name = {sql.param(e.name)}",
        ]  # fmt: skip
        page = SIGNAL_LISTING.query(sql, request.filter_by, _DEFAULT_SORT, request.page)
        where += page.where
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLS}, {SIGNAL_LISTING.select_keys(_DEFAULT_SORT)} FROM signals"
                f" WHERE {' AND '.join(where)} ORDER BY {page.order_by} LIMIT {page.fetch_limit}",
                *sql.params,
            )
        rows, token = page.finish(rows)
        base = identifier_pb2.SignalIdentifier(execution_id=e)
        return signal_pb2.ListSignalsResponse(
            signals=[_signal(r, base) for r in rows], next_token=token
        )


_DEFAULT_SORT = common_pb2.Sort()
