"""Provisioning makes the server match the specs, and never hides a consumer that drifted."""

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import DeliverPolicy, StorageType

from skyloom_common.jetstream import (
    Action,
    ConsumerDriftError,
    ConsumerSpec,
    DriftPolicy,
    StreamConfigError,
    StreamSpec,
    ensure_consumer,
    ensure_stream,
)

pytestmark = pytest.mark.integration

STREAM = StreamSpec(name="WORK", subjects=("work.>",), duplicate_window=300)
CONSUMER = ConsumerSpec(stream="WORK", durable="engine", ack_wait=30.0, max_ack_pending=100)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()


async def test_stream_is_created_then_left_alone(nc: Client) -> None:
    js = nc.jetstream()
    assert (await ensure_stream(js, STREAM)).action is Action.CREATED
    assert (await ensure_stream(js, STREAM)).action is Action.UNCHANGED
    info = await js.stream_info("WORK")
    assert info.config.subjects == ["work.>"]
    assert info.config.duplicate_window == 300


async def test_stream_is_updated_where_the_server_allows(nc: Client) -> None:
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    wider = StreamSpec(name="WORK", subjects=("work.>", "more.>"), duplicate_window=600)
    result = await ensure_stream(js, wider)
    assert result.action is Action.UPDATED
    assert {d.field for d in result.drifts} == {"subjects", "duplicate_window"}
    info = await js.stream_info("WORK")
    assert sorted(info.config.subjects or []) == ["more.>", "work.>"]
    assert info.config.duplicate_window == 600


async def test_stream_change_the_server_refuses_is_reported(nc: Client) -> None:
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    in_memory = StreamSpec(name="WORK", subjects=("work.>",), storage=StorageType.MEMORY)
    with pytest.raises(StreamConfigError, match="storage type") as info:
        await ensure_stream(js, in_memory)
    assert [d.field for d in info.value.drifts] == ["storage", "duplicate_window"]


async def test_consumer_is_created_then_left_alone(nc: Client) -> None:
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    assert (await ensure_consumer(js, CONSUMER)).action is Action.CREATED
    assert (await ensure_consumer(js, CONSUMER)).action is Action.UNCHANGED
    live = (await js.consumer_info("WORK", "engine")).config
    assert (live.ack_wait, live.max_deliver, live.max_ack_pending) == (30.0, -1, 100)


async def test_drifted_consumer_fails_loudly_by_default(nc: Client) -> None:
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    await ensure_consumer(js, CONSUMER)
    changed = ConsumerSpec(stream="WORK", durable="engine", ack_wait=5.0, max_ack_pending=100)
    with pytest.raises(ConsumerDriftError) as info:
        await ensure_consumer(js, changed)
    assert [(d.field, d.expected, d.actual) for d in info.value.drifts] == [("ack_wait", 5.0, 30.0)]
    assert "WORK/engine" in str(info.value)
    # Nothing was changed behind the operator's back.
    assert (await js.consumer_info("WORK", "engine")).config.ack_wait == 30.0


async def test_update_policy_edits_the_consumer_in_place(nc: Client) -> None:
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    await ensure_consumer(js, CONSUMER)
    await js.publish("work.1", b"pending")
    changed = ConsumerSpec(stream="WORK", durable="engine", ack_wait=5.0, max_ack_pending=100)
    result = await ensure_consumer(js, changed, on_drift=DriftPolicy.UPDATE)
    assert result.action is Action.UPDATED
    info = await js.consumer_info("WORK", "engine")
    assert info.config.ack_wait == 5.0
    assert info.num_pending == 1  # same consumer, delivery state kept
    assert (await ensure_consumer(js, changed)).action is Action.UNCHANGED


async def test_update_policy_reports_fields_the_server_cannot_edit(nc: Client) -> None:
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    await ensure_consumer(js, CONSUMER)
    changed = ConsumerSpec(
        stream="WORK", durable="engine", max_ack_pending=100, deliver_policy=DeliverPolicy.NEW
    )
    with pytest.raises(ConsumerDriftError, match="use RECREATE") as info:
        await ensure_consumer(js, changed, on_drift=DriftPolicy.UPDATE)
    assert [d.field for d in info.value.drifts] == ["deliver_policy"]


async def test_recreate_policy_replaces_the_consumer(nc: Client) -> None:
    js = nc.jetstream()
    await ensure_stream(js, STREAM)
    await ensure_consumer(js, CONSUMER)
    changed = ConsumerSpec(
        stream="WORK", durable="engine", max_ack_pending=100, deliver_policy=DeliverPolicy.NEW
    )
    result = await ensure_consumer(js, changed, on_drift=DriftPolicy.RECREATE)
    assert result.action is Action.RECREATED
    live = (await js.consumer_info("WORK", "engine")).config
    assert live.deliver_policy == DeliverPolicy.NEW
