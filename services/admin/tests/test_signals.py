"""Signals of gate nodes: GetOrCreateSignal, ListSignals, SetSignal, ApproveSignal."""

from __future__ import annotations

import pytest

from skyloom_common.errors import FailedPrecondition, InvalidArgument, NotFound
from skyloom_core.build import bool_literal, int_literal, str_literal
from skyloom_idl.admin import signal_pb2
from skyloom_idl.core import identifier_pb2, types_pb2

from .conftest import DOMAIN, PROJECT, Running, fails
from .test_executions import create_request, lp  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

BOOL = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_BOOLEAN)
INT = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_INTEGER)


def sid(signal: str, execution: str = "gated") -> identifier_pb2.SignalIdentifier:
    return identifier_pb2.SignalIdentifier(
        signal_id=signal,
        execution_id=identifier_pb2.WorkflowExecutionIdentifier(
            project=PROJECT, domain=DOMAIN, name=execution
        ),
    )


@pytest.fixture
async def gated(admin: Running, lp: identifier_pb2.Identifier) -> str:  # noqa: F811
    await admin.stub.CreateExecution(create_request(lp, "gated", x=1))
    return "gated"


async def test_create_set_and_list(admin: Running, gated: str) -> None:
    request = signal_pb2.GetOrCreateSignalRequest(id=sid("count"), type=INT)
    created = (await admin.stub.GetOrCreateSignal(request)).signal
    assert created.state == signal_pb2.Signal.STATE_WAITING
    again = (await admin.stub.GetOrCreateSignal(request)).signal
    assert again == created
    error = await fails(
        admin.stub.GetOrCreateSignal(
            signal_pb2.GetOrCreateSignalRequest(id=sid("count"), type=BOOL)
        )
    )
    assert isinstance(error, FailedPrecondition)
    wrong = await fails(
        admin.stub.SetSignal(signal_pb2.SetSignalRequest(id=sid("count"), value=str_literal("3")))
    )
    assert isinstance(wrong, InvalidArgument)
    assert wrong.field_paths == ("value",)
    set_ = signal_pb2.SetSignalRequest(id=sid("count"), value=int_literal(3), comment="ok")
    done = (await admin.stub.SetSignal(set_)).signal
    assert done.state == signal_pb2.Signal.STATE_SET
    assert done.value.scalar.primitive.integer == 3
    assert done.set_by == "bootstrap:root"
    assert (await admin.stub.SetSignal(set_)).signal.value == done.value  # same value: no-op
    other = signal_pb2.SetSignalRequest(id=sid("count"), value=int_literal(4))
    assert isinstance(await fails(admin.stub.SetSignal(other)), FailedPrecondition)
    await admin.stub.GetOrCreateSignal(
        signal_pb2.GetOrCreateSignalRequest(id=sid("approve"), type=BOOL)
    )
    listed = await admin.stub.ListSignals(
        signal_pb2.ListSignalsRequest(execution_id=sid("x").execution_id)
    )
    assert [s.id.signal_id for s in listed.signals] == ["count", "approve"]


async def test_approve_and_reject(admin: Running, gated: str) -> None:
    for name in ("yes", "no"):
        await admin.stub.GetOrCreateSignal(
            signal_pb2.GetOrCreateSignalRequest(id=sid(name), type=BOOL)
        )
    D = signal_pb2.ApproveSignalRequest
    yes = await admin.stub.ApproveSignal(D(id=sid("yes"), decision=D.DECISION_APPROVE))
    assert yes.signal.value == bool_literal(True)
    no = await admin.stub.ApproveSignal(D(id=sid("no"), decision=D.DECISION_REJECT, comment="bad"))
    assert no.signal.value == bool_literal(False)
    assert no.signal.comment == "bad"
    error = await fails(admin.stub.ApproveSignal(D(id=sid("yes"))))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("decision",)


async def test_bad_ids_and_unknown_signals(admin: Running, gated: str) -> None:
    missing = await fails(
        admin.stub.SetSignal(signal_pb2.SetSignalRequest(id=sid("nope"), value=int_literal(1)))
    )
    assert isinstance(missing, NotFound)
    for bad, path in ((sid("../x"), "id.signal_id"), (sid("a\x00"), "id.signal_id"),
                      (sid("ok", "x" * 64), "id.execution_id.name")):  # fmt: skip
        error = await fails(
            admin.stub.GetOrCreateSignal(signal_pb2.GetOrCreateSignalRequest(id=bad, type=BOOL))
        )
        assert isinstance(error, InvalidArgument)
        assert error.field_paths == (path,)
    no_exec = await fails(
        admin.stub.GetOrCreateSignal(
            signal_pb2.GetOrCreateSignalRequest(id=sid("s", "ghost"), type=BOOL)
        )
    )
    assert isinstance(no_exec, NotFound)
    assert await admin.count("signals") == 0
