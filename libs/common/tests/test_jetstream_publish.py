"""Publishing is idempotent by message id and carries the caller's trace context."""

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from opentelemetry.sdk.trace import TracerProvider

from skyloom_common.jetstream import StreamSpec, ensure_stream, publish

pytestmark = pytest.mark.integration


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    await ensure_stream(client.jetstream(), StreamSpec(name="EV", subjects=("ev.>",)))
    yield client
    await client.close()


async def test_same_id_is_stored_once_and_reported_duplicate(nc: Client) -> None:
    js = nc.jetstream()
    first = await publish(js, "ev.a", b"1", msg_id="exec-1/node-a/0/RUNNING")
    again = await publish(js, "ev.a", b"1", msg_id="exec-1/node-a/0/RUNNING")
    other = await publish(js, "ev.a", b"2", msg_id="exec-1/node-a/0/SUCCEEDED")
    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    assert again.seq == first.seq
    assert (await js.stream_info("EV")).state.messages == 2


async def test_trace_context_of_the_current_span_travels_in_headers(nc: Client) -> None:
    js = nc.jetstream()
    sub = await js.subscribe("ev.>", ordered_consumer=True)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("register") as span:
        await publish(js, "ev.a", b"x", msg_id="m1", headers={"kind": "node"})
    msg = await sub.next_msg(timeout=5)
    headers = msg.headers or {}
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert headers["traceparent"].split("-")[1] == trace_id
    assert headers["Nats-Msg-Id"] == "m1"
    assert headers["kind"] == "node"


async def test_without_a_span_no_trace_headers_are_invented(nc: Client) -> None:
    js = nc.jetstream()
    sub = await js.subscribe("ev.>", ordered_consumer=True)
    await publish(js, "ev.a", b"x", msg_id="m2")
    msg = await sub.next_msg(timeout=5)
    assert "traceparent" not in (msg.headers or {})


async def test_an_existing_traceparent_is_kept(nc: Client) -> None:
    js = nc.jetstream()
    sub = await js.subscribe("ev.>", ordered_consumer=True)
    stored = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with TracerProvider().get_tracer("test").start_as_current_span("relay"):
        await publish(js, "ev.a", b"x", msg_id="m3", headers={"traceparent": stored})
    msg = await sub.next_msg(timeout=5)
    assert (msg.headers or {})["traceparent"] == stored


async def test_empty_message_id_is_refused(nc: Client) -> None:
    with pytest.raises(ValueError, match="msg_id"):
        await publish(nc.jetstream(), "ev.a", b"x", msg_id="")
