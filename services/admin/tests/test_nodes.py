"""Node and task executions: Get/List/GetData over what event ingestion recorded."""

from __future__ import annotations

import pytest

from skyloom_common.errors import InvalidArgument, NotFound
from skyloom_core.build import int_literal, literal_map
from skyloom_idl.admin import common_pb2, node_execution_pb2, task_execution_pb2
from skyloom_idl.core import catalog_pb2, identifier_pb2
from skyloom_idl.event import ingest_pb2

from .conftest import Running, fails
from .test_events import NODE, TASK, _eid, node_event, run, task_event  # noqa: F401
from .test_executions import lp  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def nid(node: str, name: str = "ev") -> identifier_pb2.NodeExecutionIdentifier:
    return identifier_pb2.NodeExecutionIdentifier(node_id=node, execution_id=_eid(name))


async def test_nodes_children_cache_status_and_data(admin: Running, run: str) -> None:  # noqa: F811
    store = admin.app.ctx.data
    assert store is not None
    await store.put_bytes("inputs/n0.pb", literal_map({"x": int_literal(5)}).SerializeToString())
    meta = node_execution_pb2.TaskNodeMetadata(cache_status=catalog_pb2.CATALOG_CACHE_STATUS_HIT)
    await admin.stub.CreateNodeEvent(
        ingest_pb2.CreateNodeEventRequest(
            event=node_event(
                run, "n0", NODE.PHASE_RUNNING, input_uri=store.uri("inputs/n0.pb"), is_parent=True
            )
        )
    )
    await admin.stub.CreateNodeEvent(ingest_pb2.CreateNodeEventRequest(event=node_event(
        run, "n0", NODE.PHASE_SUCCEEDED, output_data=literal_map({"o0": int_literal(10)}),
        task_node_metadata=meta)))  # fmt: skip
    child = node_event(run, "n0.c1", NODE.PHASE_QUEUED)
    child.parent_node_metadata.node_id = "n0"
    await admin.stub.CreateNodeEvent(ingest_pb2.CreateNodeEventRequest(event=child))
    top = await admin.stub.ListNodeExecutions(
        node_execution_pb2.ListNodeExecutionsRequest(execution_id=_eid(run))
    )
    assert [n.id.node_id for n in top.node_executions] == ["n0"]
    assert (
        top.node_executions[0].closure.task_node_metadata.cache_status
        == catalog_pb2.CATALOG_CACHE_STATUS_HIT
    )
    children = await admin.stub.ListNodeExecutions(
        node_execution_pb2.ListNodeExecutionsRequest(execution_id=_eid(run), parent_node_id="n0")
    )
    assert [n.id.node_id for n in children.node_executions] == ["n0.c1"]
    hits = await admin.stub.ListNodeExecutions(
        node_execution_pb2.ListNodeExecutionsRequest(
            execution_id=_eid(run),
            filter_by=[common_pb2.Filter(field="cache_status", op=common_pb2.Filter.OPERATOR_EQ,
                                         values=["CATALOG_CACHE_STATUS_HIT"])],
        )
    )  # fmt: skip
    assert len(hits.node_executions) == 1
    data = await admin.stub.GetNodeExecutionData(
        node_execution_pb2.GetNodeExecutionDataRequest(id=nid("n0"))
    )
    assert data.inputs.inline.literals["x"].scalar.primitive.integer == 5
    assert data.outputs.inline.literals["o0"].scalar.primitive.integer == 10


async def test_task_data_and_bad_ids(admin: Running, run: str) -> None:  # noqa: F811
    event = task_event(
        run, "n0", TASK.PHASE_SUCCEEDED, output_data=literal_map({"o0": int_literal(1)})
    )
    await admin.stub.CreateTaskEvent(ingest_pb2.CreateTaskEventRequest(event=event))
    tid = identifier_pb2.TaskExecutionIdentifier(
        task_id=event.task_id, node_execution_id=nid("n0"), retry_attempt=0
    )
    data = await admin.stub.GetTaskExecutionData(
        task_execution_pb2.GetTaskExecutionDataRequest(id=tid)
    )
    assert data.outputs.inline.literals["o0"].scalar.primitive.integer == 1
    tid.retry_attempt = 7
    assert isinstance(
        await fails(
            admin.stub.GetTaskExecution(task_execution_pb2.GetTaskExecutionRequest(id=tid))
        ),
        NotFound,
    )
    unknown = await fails(
        admin.stub.GetNodeExecution(node_execution_pb2.GetNodeExecutionRequest(id=nid("zz")))
    )
    assert isinstance(unknown, NotFound)
    bad = await fails(
        admin.stub.GetNodeExecution(node_execution_pb2.GetNodeExecutionRequest(id=nid("a/../b")))
    )
    assert isinstance(bad, InvalidArgument)
    assert bad.field_paths == ("id.node_id",)
    ghost = await fails(
        admin.stub.ListNodeExecutions(
            node_execution_pb2.ListNodeExecutionsRequest(execution_id=_eid("ghost"))
        )
    )
    assert isinstance(ghost, NotFound)
    page = await fails(
        admin.stub.ListNodeExecutions(
            node_execution_pb2.ListNodeExecutionsRequest(
                execution_id=_eid(run), page=common_pb2.PageRequest(token="garbage!")
            )
        )
    )
    assert isinstance(page, InvalidArgument)
    assert page.field_paths == ("page.token",)
