"""Transactional outbox: enqueue in the caller's transaction, relay to JetStream (see
:mod:`.relay` for the delivery guarantee and the ``duplicate_window`` it relies on)."""

from skyloom_common.outbox.errors import NotInTransaction, OutboxError
from skyloom_common.outbox.metrics import OutboxMetrics
from skyloom_common.outbox.outbox import Outbox, drop_outbox_ddl, outbox_ddl
from skyloom_common.outbox.relay import (
    BatchPublished,
    OutboxRelay,
    OutboxRow,
    RelayOptions,
    RelayStats,
)

__all__ = [
    "BatchPublished",
    "NotInTransaction",
    "Outbox",
    "OutboxError",
    "OutboxMetrics",
    "OutboxRelay",
    "OutboxRow",
    "RelayOptions",
    "RelayStats",
    "drop_outbox_ddl",
    "outbox_ddl",
]
