"""Consumer handlers: launch plan changes, and the two kinds of event trigger.

Each handler runs inside the effectively-once consumer's transaction and writes only through
its connection (ADR 0011): launch plan changes go to ``launch_plans``; a trigger that matches
becomes a row in ``fires`` named deterministically from (launch plan, trigger, upstream
execution or message id), which the dispatcher later sends to admin. Matching is pure
(:func:`execution_fires`, :func:`message_fires`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from google.protobuf.message import DecodeError

from skyloom_common.db import Connection
from skyloom_common.jetstream import InboundMessage, PoisonMessage
from skyloom_core.blob import BlobStore, InvalidKey
from skyloom_core.blob import NotFound as BlobNotFound
from skyloom_core.schedules import trigger_execution_name
from skyloom_idl.admin import launch_plan_pb2, trigger_pb2
from skyloom_idl.core import literals_pb2
from skyloom_idl.event import entity_pb2, event_pb2
from skyloom_idl.event import trigger_pb2 as trigger_event_pb2
from skyloom_scheduler.bindings import BindingError, TriggerContext, bind_trigger_inputs
from skyloom_scheduler.model import FireRow
from skyloom_scheduler.repository import apply_entity_event, insert_fires, trigger_plans

__all__ = [
    "BlobOutputReader",
    "EntityHandler",
    "ExecutionEventHandler",
    "OutputReader",
    "TriggerMessageHandler",
    "execution_fires",
    "message_fires",
]

Clock = Callable[[], datetime]


def _fire(
    lp: launch_plan_pb2.LaunchPlan,
    index: int,
    trigger: trigger_pb2.Trigger,
    source: str,
    ctx: TriggerContext,
) -> FireRow:
    name = trigger_execution_name(lp.id, trigger.name, source)
    base = FireRow(name, lp.id, "trigger", ctx.fired_at, trigger=trigger.name)
    try:
        inputs = bind_trigger_inputs(trigger, ctx, f"spec.triggers[{index}]")
    except BindingError as exc:
        return replace(base, outcome="rejected", error=str(exc))
    return replace(base, inputs=inputs)


def execution_fires(
    plans: Sequence[launch_plan_pb2.LaunchPlan],
    event: event_pb2.WorkflowExecutionEvent,
    fired_at: datetime,
) -> list[FireRow]:
    """The fires a workflow event starts: every execution trigger naming its launch plan and
    phase. Upstream outputs are bound only when the event carries them inline."""
    up = event.launch_plan_id
    upstream = event.execution_id
    source = f"{upstream.project}/{upstream.domain}/{upstream.name}"
    ctx = TriggerContext(
        fired_at=fired_at,
        upstream_execution=upstream.name,
        upstream_outputs=event.output_data,
    )
    out = []
    for lp in plans:
        for i, trigger in enumerate(lp.spec.triggers):
            if trigger.WhichOneof("source") != "on_execution":
                continue
            want = trigger.on_execution
            if (want.launch_plan.project, want.launch_plan.domain, want.launch_plan.name) != (
                up.project, up.domain, up.name,
            ) or event.phase not in want.phases:  # fmt: skip
                continue
            out.append(_fire(lp, i, trigger, source, ctx))
    return out


def message_fires(
    plans: Sequence[launch_plan_pb2.LaunchPlan],
    project: str,
    domain: str,
    subject: str,
    message: trigger_event_pb2.TriggerMessage,
    fired_at: datetime,
) -> list[FireRow]:
    """The fires a trigger message starts: every message trigger of the subject's project and
    domain that names the subject."""
    ctx = TriggerContext(fired_at=fired_at, message_values=message.values)
    out = []
    for lp in plans:
        if (lp.id.project, lp.id.domain) != (project, domain):
            continue
        for i, trigger in enumerate(lp.spec.triggers):
            if trigger.WhichOneof("source") == "on_message" and (
                trigger.on_message.subject == subject
            ):
                out.append(_fire(lp, i, trigger, f"msg:{message.message_id}", ctx))
    return out


class EntityHandler:
    """SKYLOOM_ENTITIES → ``launch_plans`` (revision-guarded)."""

    def __init__(self, on_applied: Callable[[], None] = lambda: None) -> None:
        self._on_applied = on_applied

    async def __call__(self, conn: Connection, message: InboundMessage) -> None:
        try:
            event = entity_pb2.EntityEvent.FromString(message.data)
        except DecodeError as exc:
            raise PoisonMessage(f"not an EntityEvent: {exc}") from None
        if event.WhichOneof("kind") != "launch_plan" or not event.launch_plan.launch_plan.id.name:
            return
        if await apply_entity_event(conn, event):
            self._on_applied()


class OutputReader(Protocol):
    """Reads an execution's ``outputs.pb`` from the blob store (``output_uri`` of an event)."""

    async def __call__(self, uri: str) -> literals_pb2.LiteralMap: ...


class BlobOutputReader:
    """:class:`OutputReader` over a blob store; only URIs under its base are readable."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store

    async def __call__(self, uri: str) -> literals_pb2.LiteralMap:
        try:
            key = self._store.key_of(uri)
            return literals_pb2.LiteralMap.FromString(await self._store.get_bytes(key))
        except (InvalidKey, BlobNotFound, DecodeError):
            return literals_pb2.LiteralMap()  # the bindings that need it are then rejected


def _needs_outputs(plans: Sequence[launch_plan_pb2.LaunchPlan]) -> bool:
    return any(
        b.WhichOneof("source") == "upstream_output"
        for lp in plans
        for t in lp.spec.triggers
        for b in t.bindings
    )


class ExecutionEventHandler:
    """SKYLOOM_EVENTS workflow events → ``fires`` for matching execution triggers.

    Outputs the event names by ``output_uri`` are read through ``outputs`` (a read-only,
    repeatable side effect) when a matching trigger binds one; without a reader such bindings
    are rejected like any other unsatisfiable binding."""

    def __init__(
        self, clock: Clock = lambda: datetime.now(UTC), outputs: OutputReader | None = None
    ) -> None:
        self._clock = clock
        self._outputs = outputs

    async def __call__(self, conn: Connection, message: InboundMessage) -> None:
        try:
            event = event_pb2.WorkflowExecutionEvent.FromString(message.data)
        except DecodeError as exc:
            raise PoisonMessage(f"not a WorkflowExecutionEvent: {exc}") from None
        if not event.HasField("launch_plan_id"):
            return
        plans = await trigger_plans(conn)
        now = self._clock()
        matching = [lp for lp in plans if execution_fires([lp], event, now)]
        if (
            matching
            and self._outputs is not None
            and event.WhichOneof("output_result") == "output_uri"
            and _needs_outputs(matching)
        ):
            event.output_data.CopyFrom(await self._outputs(event.output_uri))
        await insert_fires(conn, execution_fires(matching, event, now), None)


class TriggerMessageHandler:
    """SKYLOOM_TRIGGERS messages → ``fires`` for matching message triggers."""

    def __init__(self, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self._clock = clock

    async def __call__(self, conn: Connection, message: InboundMessage) -> None:
        parts = message.subject.split(".")
        if len(parts) != 5 or parts[:2] != ["skyloom", "triggers"]:
            raise PoisonMessage(f"unexpected subject {message.subject!r}")
        try:
            body = trigger_event_pb2.TriggerMessage.FromString(message.data)
        except DecodeError as exc:
            raise PoisonMessage(f"not a TriggerMessage: {exc}") from None
        if not body.message_id:
            body.message_id = message.msg_id
        _, _, project, domain, subject = parts
        plans = await trigger_plans(conn)
        await insert_fires(
            conn, message_fires(plans, project, domain, subject, body, self._clock()), None
        )
