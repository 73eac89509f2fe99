"""Concurrency policies and quotas: whether a new execution starts now, waits, or is refused.

Counted in the create transaction under advisory locks, so two creates cannot both take the
last slot: one per project-domain (taken first, only when a quota applies) and one per launch
plan name (only when its policy has a limit). The terminal hook that frees slots takes the
same locks in the same order (project-domain, then launch plan), so they cannot deadlock.

An execution that must wait is created in phase QUEUED with ``dispatched = false`` and its
start work item kept in the row; :class:`Dispatcher` sends the oldest waiting ones when an
execution of the same project-domain finishes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from skyloom_common.db import Connection
from skyloom_common.errors import ResourceExhausted
from skyloom_common.outbox import Outbox
from skyloom_idl.admin import execution_pb2, launch_plan_pb2
from skyloom_idl.core.identifier_pb2 import WorkflowExecutionIdentifier
from skyloom_idl.event import event_pb2, work_pb2

__all__ = ["Admission", "Dispatcher", "Limits", "admit"]

_TERMINAL = "(4, 6, 8, 9)"
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one new execution (None: no limit)."""

    launch_plan: str = ""
    per_launch_plan: int | None = None
    skip: bool = False
    per_project_domain: int | None = None


@dataclass(frozen=True)
class Admission:
    start_now: bool
    reason: str = ""


def limits_for(
    launch_plan: launch_plan_pb2.LaunchPlan | None, max_concurrent: int | None
) -> Limits:
    policy = launch_plan.spec.concurrency_policy if launch_plan is not None else None
    per_lp = policy.max if policy is not None and policy.max > 0 else None
    skip = policy is not None and policy.behavior == launch_plan_pb2.ConcurrencyPolicy.BEHAVIOR_SKIP
    return Limits(
        launch_plan=launch_plan.id.name if launch_plan is not None else "",
        per_launch_plan=per_lp,
        skip=skip,
        per_project_domain=max_concurrent,
    )


async def admit(conn: Connection, project: str, domain: str, limits: Limits) -> Admission:
    """Decide for a new execution (takes the locks; call inside the create transaction)."""
    reasons: list[str] = []
    if limits.per_project_domain is not None:
        await conn.execute(_LOCK, f"skyloom.quota:{project}/{domain}")
        running, waiting = await _counts(conn,
            f"SELECT count(*) FILTER (WHERE dispatched), count(*) FILTER (WHERE NOT dispatched)"
            f" FROM executions WHERE project = $1 AND domain = $2 AND phase NOT IN {_TERMINAL}",
            project, domain,
        )  # fmt: skip
        if running >= limits.per_project_domain or waiting:
            reasons.append(
                f"{running} of {limits.per_project_domain} concurrent executions of "
                f"{project}/{domain} are running"
            )
    if limits.per_launch_plan is not None:
        await conn.execute(_LOCK, f"skyloom.lp:{project}/{domain}/{limits.launch_plan}")
        running, waiting = await _counts(conn,
            "SELECT count(*) FILTER (WHERE dispatched), count(*) FILTER (WHERE NOT dispatched)"
            " FROM executions WHERE project = $1 AND domain = $2 AND launch_plan_name = $3"
            f" AND phase NOT IN {_TERMINAL}",
            project, domain, limits.launch_plan,
        )  # fmt: skip
        if running >= limits.per_launch_plan or waiting:
            message = (
                f"{running} of {limits.per_launch_plan} concurrent executions of launch plan "
                f"{limits.launch_plan} are running"
            )
            if limits.skip:
                raise ResourceExhausted(
                    f"{message}; its concurrency policy is SKIP", reason="CONCURRENCY_LIMIT"
                )
            reasons.append(message)
    return Admission(
        start_now=not reasons, reason="waiting: " + "; ".join(reasons) if reasons else ""
    )


async def _counts(conn: Connection, sql: str, *args: object) -> tuple[int, int]:
    row = await conn.fetchrow(sql, *args)
    assert row is not None  # an aggregate always returns a row
    return int(row[0]), int(row[1])


class Dispatcher:
    """Terminal hook: start the oldest waiting executions of the project-domain that now fit
    (the limits each was created under are kept in its row: ``lp_limit``, ``quota_limit``)."""

    def __init__(
        self, outbox: Outbox, subject_for: Callable[[WorkflowExecutionIdentifier], str]
    ) -> None:
        self._outbox = outbox
        self._subject_for = subject_for

    async def __call__(
        self,
        conn: Connection,
        execution: execution_pb2.Execution,
        event: event_pb2.WorkflowExecutionEvent,
    ) -> None:
        p, d = execution.id.project, execution.id.domain
        waiting = await conn.fetch(
            "SELECT name, launch_plan_name, lp_limit, quota_limit, start_item FROM executions"
            f" WHERE project = $1 AND domain = $2 AND NOT dispatched AND phase NOT IN {_TERMINAL}"
            " ORDER BY seq LIMIT 20",
            p, d,
        )  # fmt: skip
        if not waiting:
            return
        await conn.execute(_LOCK, f"skyloom.quota:{p}/{d}")
        blocked: set[str] = set()
        for row in waiting:
            lp = row["launch_plan_name"]
            if lp in blocked:
                continue
            if not await self._fits(conn, p, d, lp, row["lp_limit"], row["quota_limit"]):
                blocked.add(lp)  # keep its order: nothing younger of this plan goes first
                continue
            await conn.execute(
                "UPDATE executions SET dispatched = true, updated_at = now()"
                " WHERE project = $1 AND domain = $2 AND name = $3",
                p, d, row["name"],
            )  # fmt: skip
            item = work_pb2.WorkItem()
            item.ParseFromString(row["start_item"])
            await self._outbox.enqueue(
                conn, self._subject_for(item.execution_id), item.SerializeToString(), item.work_id
            )

    async def _fits(
        self, conn: Connection, p: str, d: str, lp: str, lp_limit: int | None, quota: int | None
    ) -> bool:
        if quota is not None:
            running = await conn.fetchval(
                "SELECT count(*) FROM executions WHERE project = $1 AND domain = $2"
                f" AND dispatched AND phase NOT IN {_TERMINAL}",
                p, d,
            )  # fmt: skip
            if running >= quota:
                return False
        if lp_limit is not None and lp:
            await conn.execute(_LOCK, f"skyloom.lp:{p}/{d}/{lp}")
            running = await conn.fetchval(
                "SELECT count(*) FROM executions WHERE project = $1 AND domain = $2"
                f" AND launch_plan_name = $3 AND dispatched AND phase NOT IN {_TERMINAL}",
                p, d, lp,
            )  # fmt: skip
            if running >= lp_limit:
                return False
        return True
