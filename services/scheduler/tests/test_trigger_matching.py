"""Trigger matching and input binding (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from skyloom_common.jetstream import InboundMessage
from skyloom_core.blob import store_for
from skyloom_idl.admin import launch_plan_pb2, trigger_pb2
from skyloom_idl.core import execution_pb2, identifier_pb2, literals_pb2
from skyloom_idl.event import event_pb2
from skyloom_idl.event import trigger_pb2 as trigger_event_pb2
from skyloom_scheduler.triggers import (
    BlobOutputReader,
    ExecutionEventHandler,
    execution_fires,
    message_fires,
)

NOW = datetime(2026, 11, 22, 6, tzinfo=UTC)
PHASE = execution_pb2.WorkflowExecution
Binding = trigger_pb2.TriggerBinding


def integer(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value))
    )


def plan(name: str, *triggers: trigger_pb2.Trigger) -> launch_plan_pb2.LaunchPlan:
    lp = launch_plan_pb2.LaunchPlan(
        id=identifier_pb2.Identifier(project="p", domain="d", name=name, version="v1")
    )
    lp.spec.triggers.extend(triggers)
    return lp


def after(upstream: str, *bindings: trigger_pb2.TriggerBinding) -> trigger_pb2.Trigger:
    return trigger_pb2.Trigger(
        name="after",
        on_execution=trigger_pb2.ExecutionTrigger(
            launch_plan=identifier_pb2.NamedEntityIdentifier(
                project="p", domain="d", name=upstream
            ),
            phases=[PHASE.PHASE_SUCCEEDED],
        ),
        bindings=list(bindings),
    )


def event(lp: str, phase: int, **outputs: int) -> event_pb2.WorkflowExecutionEvent:
    return event_pb2.WorkflowExecutionEvent(
        execution_id=identifier_pb2.WorkflowExecutionIdentifier(
            project="p", domain="d", name="up1"
        ),
        phase=phase,  # type: ignore[arg-type]
        launch_plan_id=identifier_pb2.Identifier(project="p", domain="d", name=lp, version="x"),
        output_data=literals_pb2.LiteralMap(literals={k: integer(v) for k, v in outputs.items()}),
    )


def test_execution_trigger_matches_plan_and_phase_and_binds_outputs() -> None:
    b = plan(
        "b",
        after(
            "a",
            Binding(input="n", upstream_output="o0"),
            Binding(input="up", context=Binding.CONTEXT_VALUE_UPSTREAM_EXECUTION_NAME),
            Binding(input="k", constant=integer(7)),
        ),
    )
    other = plan("c", after("b"))
    assert execution_fires([b, other], event("a", PHASE.PHASE_RUNNING), NOW) == []
    [fire] = execution_fires([b, other], event("a", PHASE.PHASE_SUCCEEDED, o0=41), NOW)
    assert fire.launch_plan == b.id
    assert fire.trigger == "after"
    assert fire.kind == "trigger"
    assert fire.outcome is None
    assert fire.inputs.literals["n"].scalar.primitive.integer == 41
    assert fire.inputs.literals["up"].scalar.primitive.string_value == "up1"
    assert fire.inputs.literals["k"].scalar.primitive.integer == 7
    again = execution_fires([b], event("a", PHASE.PHASE_SUCCEEDED, o0=41), NOW)
    assert again[0].name == fire.name  # a redelivered event names the same execution


def test_missing_upstream_output_is_recorded_as_rejected_with_its_path() -> None:
    b = plan("b", after("a", Binding(input="n", upstream_output="nope")))
    [fire] = execution_fires([b], event("a", PHASE.PHASE_SUCCEEDED), NOW)
    assert fire.outcome == "rejected"
    assert fire.error is not None
    assert "spec.triggers[0].bindings[0].upstream_output" in fire.error


def test_message_trigger_matches_subject_in_its_project_and_domain() -> None:
    on_msg = trigger_pb2.Trigger(
        name="on-file",
        on_message=trigger_pb2.SubjectTrigger(subject="files"),
        bindings=[
            Binding(input="path", message_value="path"),
            Binding(input="at", context=Binding.CONTEXT_VALUE_FIRED_AT),
        ],
    )
    lp = plan("ingest", on_msg)
    msg = trigger_event_pb2.TriggerMessage(
        message_id="m-1", values=literals_pb2.LiteralMap(literals={"path": integer(3)})
    )
    assert message_fires([lp], "p", "other", "files", msg, NOW) == []
    assert message_fires([lp], "p", "d", "other", msg, NOW) == []
    [fire] = message_fires([lp], "p", "d", "files", msg, NOW)
    assert fire.inputs.literals["path"].scalar.primitive.integer == 3
    assert fire.inputs.literals["at"].scalar.primitive.datetime.ToDatetime(tzinfo=UTC) == NOW


class FakeConn:
    """Just enough of a connection for the handler: the trigger plans and the fire inserts."""

    def __init__(self, plans: list[launch_plan_pb2.LaunchPlan]) -> None:
        self.plans = plans
        self.inserted: list[tuple[object, ...]] = []

    async def fetch(self, query: str) -> list[dict[str, bytes]]:
        return [{"launch_plan": lp.SerializeToString()} for lp in self.plans]

    async def execute(self, query: str, *args: object) -> str:
        self.inserted.append(args)
        return "INSERT 0 1"


async def test_outputs_named_by_uri_are_read_from_the_blob_store(tmp_path: Path) -> None:
    b = plan("b", after("a", Binding(input="n", upstream_output="o0")))
    async with store_for(f"file://{tmp_path}") as store:
        outputs = literals_pb2.LiteralMap(literals={"o0": integer(9)})
        await store.put_bytes("p/d/up1/outputs.pb", outputs.SerializeToString())
        ev = event("a", PHASE.PHASE_SUCCEEDED)
        ev.output_uri = store.uri("p/d/up1/outputs.pb")
        conn = FakeConn([b])
        handler = ExecutionEventHandler(lambda: NOW, BlobOutputReader(store))
        message = InboundMessage(
            "id", "skyloom.events.workflow.p.d", ev.SerializeToString(), {}, "S", 1, 1
        )
        await handler(conn, message)  # type: ignore[arg-type]
        [args] = conn.inserted
        inputs = literals_pb2.LiteralMap.FromString(args[7])  # type: ignore[arg-type]
        assert inputs.literals["n"].scalar.primitive.integer == 9
        assert args[10] is None  # not rejected
        # A URI outside the store's base is never read: the binding is rejected instead.
        ev.output_uri = "file:///etc/passwd"
        message = InboundMessage("id2", "s", ev.SerializeToString(), {}, "S", 2, 1)
        await handler(conn, message)  # type: ignore[arg-type]
        assert conn.inserted[1][10] == "rejected"
