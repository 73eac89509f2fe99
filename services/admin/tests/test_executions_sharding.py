"""`admin.work_shards` spreads work items over skyloom.work.<n>, one shard per execution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skyloom_admin.executions.plan import work_shard
from skyloom_core.blob import store_for
from skyloom_idl.admin import execution_pb2, project_pb2
from skyloom_idl.core import identifier_pb2

from .conftest import (
    DOMAIN,
    PROJECT,
    Running,
    admin_settings,
    register_task,
    register_workflow,
    start,
)
from .test_executions import create_request, register_launch_plan

pytestmark = pytest.mark.integration

SHARDS = 4


@pytest.fixture
async def sharded(postgres_dsn: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    settings = admin_settings(postgres_dsn, nats_url, work_shards=SHARDS)
    async with store_for(f"file://{tmp_path}/data") as data:
        async for running in start(settings, data_store=data):
            yield running


async def test_work_items_go_to_the_shard_of_their_execution(sharded: Running) -> None:
    await sharded.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=project_pb2.Project(id=PROJECT))
    )
    await register_task(sharded)
    await register_workflow(sharded)
    lp = await register_launch_plan(sharded)
    names = [f"run-{i}" for i in range(12)]
    for name in names:
        await sharded.stub.CreateExecution(create_request(lp, name, x=1))
    await sharded.stub.TerminateExecution(
        execution_pb2.TerminateExecutionRequest(
            id=identifier_pb2.WorkflowExecutionIdentifier(
                project=PROJECT, domain=DOMAIN, name=names[0]
            ),
            cause="test",
        )
    )
    rows = await sharded.db.fetch(
        "SELECT subject, msg_id FROM outbox WHERE subject LIKE 'skyloom.work.%'"
    )
    assert len(rows) == len(names) + 1  # a start per execution and one abort
    for row in rows:
        name = row["msg_id"].rsplit(":", 1)[-1]
        wid = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
        assert row["subject"] == f"skyloom.work.{work_shard(wid, SHARDS)}"
    assert len({row["subject"] for row in rows}) > 1
