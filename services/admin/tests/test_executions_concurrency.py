"""Concurrency policies per launch plan (SKIP, QUEUE) and quotas per project-domain."""

from __future__ import annotations

import pytest

from skyloom_common.errors import ResourceExhausted
from skyloom_idl.admin import attributes_pb2, execution_pb2, launch_plan_pb2

from .conftest import DOMAIN, PROJECT, Running, fails, register_task, register_workflow
from .test_events import WF, _eid, workflow_event
from .test_executions import create_request, register_launch_plan, work_items

pytestmark = pytest.mark.integration
Policy = launch_plan_pb2.ConcurrencyPolicy


async def _phase(admin: Running, name: str) -> execution_pb2.ExecutionClosure:
    got = await admin.stub.GetExecution(execution_pb2.GetExecutionRequest(id=_eid(name)))
    return got.execution.closure


async def test_skip_refuses_over_the_limit(admin: Running, project: str) -> None:
    await register_task(admin)
    await register_workflow(admin)
    lp = await register_launch_plan(
        admin, "skip", policy=Policy(max=1, behavior=Policy.BEHAVIOR_SKIP)
    )
    await admin.stub.CreateExecution(create_request(lp, "first", x=1))
    error = await fails(admin.stub.CreateExecution(create_request(lp, "second", x=1)))
    assert isinstance(error, ResourceExhausted)
    assert await admin.count("executions") == 1
    await admin.stub.CreateWorkflowEvent(workflow_event("first", WF.PHASE_RUNNING))
    await admin.stub.CreateWorkflowEvent(workflow_event("first", WF.PHASE_SUCCEEDED))
    await admin.stub.CreateExecution(create_request(lp, "third", x=1))  # a slot is free again


async def test_queue_waits_and_starts_when_a_slot_frees(admin: Running, project: str) -> None:
    await register_task(admin)
    await register_workflow(admin)
    lp = await register_launch_plan(
        admin, "queue", policy=Policy(max=1, behavior=Policy.BEHAVIOR_QUEUE)
    )
    await admin.stub.CreateExecution(create_request(lp, "first", x=1))
    await admin.stub.CreateExecution(create_request(lp, "second", x=2))
    await admin.stub.CreateExecution(create_request(lp, "third", x=3))
    waiting = await _phase(admin, "second")
    assert waiting.phase == WF.PHASE_QUEUED
    assert waiting.phase_reason.startswith("waiting: 1 of 1 concurrent executions")
    assert [i.execution_id.name for i in await work_items(admin, 1)] == ["first"]
    await admin.stub.CreateWorkflowEvent(workflow_event("first", WF.PHASE_RUNNING))
    await admin.stub.CreateWorkflowEvent(workflow_event("first", WF.PHASE_FAILED))
    items = await work_items(admin, 2)
    assert [i.execution_id.name for i in items] == ["first", "second"]  # oldest first, one slot
    # the engine's own QUEUED for "second" repeats admin's: answered ALREADY_EXISTS (success)
    await admin.stub.CreateWorkflowEvent(workflow_event("second", WF.PHASE_RUNNING))
    await admin.stub.TerminateExecution(execution_pb2.TerminateExecutionRequest(id=_eid("third")))
    assert (
        await _phase(admin, "third")
    ).phase == WF.PHASE_ABORTED  # never started: aborted at once


async def test_project_domain_quota_queues_across_launch_plans(
    admin: Running, project: str
) -> None:
    await register_task(admin)
    await register_workflow(admin)
    a = await register_launch_plan(admin, "a")
    b = await register_launch_plan(admin, "b")
    scoped = attributes_pb2.ScopedAttributes(
        scope=attributes_pb2.AttributesScope(project=PROJECT, domain=DOMAIN),
        attributes=attributes_pb2.MatchingAttributes(
            quota=attributes_pb2.QuotaAttributes(max_concurrent_executions=1)
        ),
    )
    await admin.stub.UpdateMatchableAttributes(
        attributes_pb2.UpdateMatchableAttributesRequest(attributes=scoped)
    )
    await admin.stub.CreateExecution(create_request(a, "qa", x=1))
    await admin.stub.CreateExecution(create_request(b, "qb", x=1))
    assert (await _phase(admin, "qb")).phase == WF.PHASE_QUEUED
    await admin.stub.CreateWorkflowEvent(workflow_event("qa", WF.PHASE_RUNNING))
    await admin.stub.CreateWorkflowEvent(workflow_event("qa", WF.PHASE_SUCCEEDED))
    assert [i.execution_id.name for i in await work_items(admin, 2)] == ["qa", "qb"]
