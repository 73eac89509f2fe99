"""Event triggers end to end: a message starts A, A's success starts B, B's starts C."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import nats
import pytest

from skyloom_common.jetstream import publish
from skyloom_core.schedules import trigger_execution_name
from skyloom_idl.admin import trigger_pb2
from skyloom_idl.core import execution_pb2, identifier_pb2, literals_pb2
from skyloom_idl.event import trigger_pb2 as trigger_event_pb2
from skyloom_scheduler.streams import trigger_subject

from .conftest import (
    DOMAIN,
    PROJECT,
    Created,
    FakeAdmin,
    eventually,
    launch_plan,
    running,
    succeeded_engine,
)

pytestmark = pytest.mark.integration

Binding = trigger_pb2.TriggerBinding
NOW = datetime(2026, 11, 22, 6, tzinfo=UTC)


def integer(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value))
    )


def after(upstream: str) -> trigger_pb2.Trigger:
    return trigger_pb2.Trigger(
        name=f"after-{upstream}",
        on_execution=trigger_pb2.ExecutionTrigger(
            launch_plan=identifier_pb2.NamedEntityIdentifier(
                project=PROJECT, domain=DOMAIN, name=upstream
            ),
            phases=[execution_pb2.WorkflowExecution.PHASE_SUCCEEDED],
        ),
        bindings=[
            Binding(input="n", upstream_output="o0"),
            Binding(input="parent", context=Binding.CONTEXT_VALUE_UPSTREAM_EXECUTION_NAME),
        ],
    )


def plus_one(created: Created) -> literals_pb2.LiteralMap:
    n = created.inputs.literals["n"].scalar.primitive.integer
    return literals_pb2.LiteralMap(literals={"o0": integer(n + 1)})


async def test_trigger_chain_a_b_c(postgres_dsn: str, nats_url: str) -> None:
    a = launch_plan("a", activated_at=NOW)
    a.spec.triggers.append(
        trigger_pb2.Trigger(
            name="on-start",
            on_message=trigger_pb2.SubjectTrigger(subject="start"),
            bindings=[Binding(input="n", message_value="n")],
        )
    )
    b = launch_plan("b", activated_at=NOW)
    b.spec.triggers.append(after("a"))
    c = launch_plan("c", activated_at=NOW)
    c.spec.triggers.append(after("b"))
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        admin = FakeAdmin(active=[a, b, c], engine=succeeded_engine(js, plus_one))
        async with running(postgres_dsn, nats_url, admin) as app:
            await eventually(lambda: _synced(app.resync.count))
            message = trigger_event_pb2.TriggerMessage(
                message_id="m-1", values=literals_pb2.LiteralMap(literals={"n": integer(1)})
            )
            subject = trigger_subject(PROJECT, DOMAIN, "start")
            await publish(js, subject, message.SerializeToString(), msg_id="m-1")
            await admin.wait_for(3, within=15)
            # The same logical message published again (another Nats-Msg-Id) starts nothing.
            await publish(js, subject, message.SerializeToString(), msg_id="m-1-again")
            messages = app.consumers[2]
            await eventually(lambda: _synced(messages.stats.applied - 1))
            await asyncio.sleep(0.5)
    finally:
        await nc.close()
    a_name = trigger_execution_name(a.id, "on-start", "msg:m-1")
    b_name = trigger_execution_name(b.id, "after-a", f"{PROJECT}/{DOMAIN}/{a_name}")
    c_name = trigger_execution_name(c.id, "after-b", f"{PROJECT}/{DOMAIN}/{b_name}")
    assert admin.names() == {a_name, b_name, c_name}
    assert len(admin.calls) == 3
    by_name = {created.name: created for created in admin.executions.values()}
    assert [
        by_name[n].inputs.literals["n"].scalar.primitive.integer for n in (a_name, b_name, c_name)
    ] == [1, 2, 3]
    assert by_name[b_name].inputs.literals["parent"].scalar.primitive.string_value == a_name
    assert by_name[c_name].inputs.literals["parent"].scalar.primitive.string_value == b_name
    assert [by_name[n].trigger for n in (a_name, b_name, c_name)] == [
        "on-start",
        "after-a",
        "after-b",
    ]


async def _synced(count: int) -> bool:
    return count >= 1
