"""Errors of the transactional outbox.

OutboxError             base of everything this package raises
└── NotInTransaction    enqueue() was called outside the caller's transaction
"""

from __future__ import annotations

__all__ = ["NotInTransaction", "OutboxError"]


class OutboxError(Exception):
    """Base of the errors raised by :mod:`skyloom_common.outbox`."""


class NotInTransaction(OutboxError):
    """The outbox row must commit with the state change it announces; open a transaction."""
