"""Pure parts of the JetStream toolkit: specs, drift detection, retry policy, error classes."""

import asyncpg
import nats.errors
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig

from skyloom_common.errors import NotFound, Unavailable
from skyloom_common.jetstream import (
    ConsumerOptions,
    ConsumerSpec,
    PoisonMessage,
    StreamSpec,
    consumer_drift,
    is_transient,
    stream_drift,
)

SPEC = ConsumerSpec(stream="S", durable="d", filter_subjects=("s.a",), ack_wait=30.0)


def server_view(config: ConsumerConfig) -> ConsumerConfig:
    """What the server sends back: the spec's fields plus defaults the spec never mentions."""
    live: ConsumerConfig = ConsumerConfig.from_response(
        {**config.as_dict(), "max_waiting": 512, "num_replicas": 0, "replay_policy": "instant"}
    )
    return live


def test_consumer_matching_its_spec_has_no_drift() -> None:
    assert consumer_drift(SPEC, server_view(SPEC.to_config())) == []


def test_consumer_drift_names_each_differing_field() -> None:
    live = ConsumerSpec(
        stream="S",
        durable="d",
        filter_subjects=("s.b",),
        ack_wait=2.0,
        deliver_policy=DeliverPolicy.NEW,
    )
    drifts = {d.field: d for d in consumer_drift(SPEC, server_view(live.to_config()))}
    assert set(drifts) == {"filter_subjects", "ack_wait", "deliver_policy"}
    assert drifts["ack_wait"].expected == 30.0
    assert drifts["ack_wait"].actual == 2.0
    assert "spec 30.0, server 2.0" in str(drifts["ack_wait"])


def test_push_consumer_under_a_pull_spec_is_drift() -> None:
    live = SPEC.to_config()
    live.deliver_subject = "_INBOX.x"
    assert [d.field for d in consumer_drift(SPEC, live)] == ["deliver_subject (push consumer)"]


def test_multiple_filters_compare_as_sets() -> None:
    spec = ConsumerSpec(stream="S", durable="d", filter_subjects=("a", "b"))
    live = ConsumerSpec(stream="S", durable="d", filter_subjects=("b", "a"))
    assert consumer_drift(spec, server_view(live.to_config())) == []
    assert spec.to_config().filter_subjects == ["a", "b"]
    assert SPEC.to_config().filter_subject == "s.a"


def test_stream_drift() -> None:
    spec = StreamSpec(name="S", subjects=("s.>",), duplicate_window=600)
    live = StreamConfig.from_response(
        {**spec.to_config().as_dict(), "duplicate_window": 120_000_000_000, "max_consumers": -1}
    )
    assert [(d.field, d.expected, d.actual) for d in stream_drift(spec, live)] == [
        ("duplicate_window", 600, 120.0)
    ]


def test_stream_spec_validates() -> None:
    with pytest.raises(ValueError, match="at least one subject"):
        StreamSpec(name="S", subjects=())
    with pytest.raises(ValueError, match="duplicate_window"):
        StreamSpec(name="S", subjects=("a",), duplicate_window=0)


def test_retry_delay_doubles_per_delivery_up_to_the_cap() -> None:
    options = ConsumerOptions(retry_delay=0.5, max_retry_delay=3.0)
    assert [options.retry_after(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="at least 1"):
        ConsumerOptions(batch_size=0)


@pytest.mark.parametrize(
    "error",
    [
        Unavailable("db down"),
        asyncpg.ConnectionDoesNotExistError("gone"),
        asyncpg.SerializationError("conflict"),
        nats.errors.ConnectionClosedError(),
        TimeoutError(),
        ConnectionResetError(),
    ],
)
def test_infrastructure_faults_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [PoisonMessage("bad payload"), ValueError("bug"), NotFound("x"), asyncpg.CheckViolationError()],
)
def test_bad_messages_are_not_transient(error: Exception) -> None:
    assert not is_transient(error)
