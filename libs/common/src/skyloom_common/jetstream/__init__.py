"""JetStream toolkit: declarative provisioning, idempotent traced publish, effectively-once
consumption (see :mod:`.batch` for the guarantee and :mod:`.consumer` for the loop)."""

from skyloom_common.jetstream.batch import (
    BatchHandler,
    BatchOutcome,
    InboundMessage,
    MessageHandler,
    Rejected,
    apply_batch,
    dead_letter,
    inbound,
)
from skyloom_common.jetstream.consumer import (
    BatchCommitted,
    ConsumerOptions,
    ConsumerStats,
    EffectivelyOnceConsumer,
)
from skyloom_common.jetstream.errors import (
    ConsumerDriftError,
    ConsumerMissingError,
    Drift,
    JetStreamError,
    PoisonMessage,
    StreamConfigError,
    is_transient,
)
from skyloom_common.jetstream.provision import Action, Provisioned, ensure_consumer, ensure_stream
from skyloom_common.jetstream.publish import (
    MSG_ID_HEADER,
    PublishResult,
    extract_trace_context,
    publish,
    trace_headers,
)
from skyloom_common.jetstream.specs import (
    ConsumerSpec,
    DriftPolicy,
    StreamSpec,
    consumer_drift,
    stream_drift,
)
from skyloom_common.jetstream.tables import (
    ConsumerTables,
    consumer_tables_ddl,
    drop_consumer_tables_ddl,
    prune_processed,
)

__all__ = [
    "MSG_ID_HEADER",
    "Action",
    "BatchCommitted",
    "BatchHandler",
    "BatchOutcome",
    "ConsumerDriftError",
    "ConsumerMissingError",
    "ConsumerOptions",
    "ConsumerSpec",
    "ConsumerStats",
    "ConsumerTables",
    "Drift",
    "DriftPolicy",
    "EffectivelyOnceConsumer",
    "InboundMessage",
    "JetStreamError",
    "MessageHandler",
    "PoisonMessage",
    "Provisioned",
    "PublishResult",
    "Rejected",
    "StreamConfigError",
    "StreamSpec",
    "apply_batch",
    "consumer_drift",
    "consumer_tables_ddl",
    "dead_letter",
    "drop_consumer_tables_ddl",
    "ensure_consumer",
    "ensure_stream",
    "extract_trace_context",
    "inbound",
    "is_transient",
    "prune_processed",
    "publish",
    "stream_drift",
    "trace_headers",
]
