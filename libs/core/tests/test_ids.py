"""Deterministic ids."""

from __future__ import annotations

import re
import uuid

from skyloom_core.ids import (
    EVENT_NAMESPACE,
    attempt_id,
    child_execution_name,
    event_id,
    event_key,
    fnv1a_128,
    scheduled_execution_name,
)
from skyloom_idl.core import execution_pb2, identifier_pb2

EXEC = identifier_pb2.WorkflowExecutionIdentifier(project="proj", domain="dev", name="exec1")
NODE = identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=EXEC)
TASK_ID = identifier_pb2.Identifier(project="proj", domain="dev", name="t.clean", version="v1")
ATTEMPT = identifier_pb2.TaskExecutionIdentifier(
    task_id=TASK_ID, node_execution_id=NODE, retry_attempt=2
)
DNS = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")


def test_event_keys_match_the_documented_format() -> None:
    assert (
        event_key(EXEC, execution_pb2.WorkflowExecution.PHASE_RUNNING)
        == "wf:proj:dev:exec1:PHASE_RUNNING"
    )
    assert (
        event_key(NODE, execution_pb2.NodeExecution.PHASE_QUEUED, retry_attempt=1)
        == "node:proj:dev:exec1:n0:1:PHASE_QUEUED"
    )
    # The example in proto/skyloom/event/event.proto.
    assert (
        event_key(ATTEMPT, execution_pb2.TaskExecution.PHASE_RUNNING, phase_version=3)
        == "task:proj:dev:exec1:n0:proj:dev:t.clean:v1:2:PHASE_RUNNING:3"
    )


def test_event_ids_are_uuid5_of_the_key_and_distinct() -> None:
    phase = execution_pb2.TaskExecution.PHASE_RUNNING
    eid = event_id(ATTEMPT, phase, phase_version=3)
    assert eid == str(uuid.uuid5(EVENT_NAMESPACE, event_key(ATTEMPT, phase, phase_version=3)))
    assert uuid.uuid5(uuid.NAMESPACE_URL, "https://skyloom.dev/ns/events") == EVENT_NAMESPACE
    assert eid != event_id(ATTEMPT, phase, phase_version=4)
    assert event_id(ATTEMPT, phase, phase_version=3) == eid


def test_separators_in_components_are_escaped() -> None:
    tricky = identifier_pb2.WorkflowExecutionIdentifier(project="a:b", domain="c", name="d%")
    assert event_key(tricky, 1) == "wf:a%3Ab:c:d%25:PHASE_QUEUED"


def test_attempt_id_is_dns_safe_short_and_unique() -> None:
    aid = attempt_id(EXEC, "n0", 0)
    assert aid.startswith("exec1-n0-0-")
    assert DNS.match(aid)
    long_exec = identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name="e" * 60)
    long_id = attempt_id(long_exec, "Node_With.Dots" * 5, 12)
    assert DNS.match(long_id)
    assert len(long_id) <= 63
    other_project = identifier_pb2.WorkflowExecutionIdentifier(
        project="other", domain="dev", name="exec1"
    )
    assert attempt_id(other_project, "n0", 0) != aid
    assert attempt_id(EXEC, "n0", 1) != aid


def test_child_execution_name() -> None:
    name = child_execution_name(EXEC, "n3", 0)
    assert len(name) == 20
    assert DNS.match(name)
    assert name == child_execution_name(EXEC, "n3", 0)
    assert name != child_execution_name(EXEC, "n3", 1)


def test_scheduled_execution_name() -> None:
    lp = identifier_pb2.Identifier(project="proj", domain="dev", name="nightly", version="v1")
    name = scheduled_execution_name(lp, 1_700_000_000)
    assert re.fullmatch(r"f[0-9a-f]{19}", name)
    assert name == "f" + f"{fnv1a_128(b'proj:dev:nightly:v1:1700000000'):032x}"[:19]
    assert name != scheduled_execution_name(lp, 1_700_000_060)


def test_fnv1a_128_known_vectors() -> None:
    assert fnv1a_128(b"") == 0x6C62272E07BB014262B821756295C58D
    assert fnv1a_128(b"a") == 0xD228CB696F1A8CAF78912B704E4A8964
