"""Opaque keyset page tokens and page sizes.

A token is base64url of ``{"c": created_at µs, "s": seq, "f": fingerprint}``: the sort key of
the last row of the previous page plus a fingerprint of the query it belongs to (entity, filter,
sort), so a token reused with another query is refused instead of silently skipping rows.
Pages are stable while rows are added because ties on ``created_at`` break on ``seq``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from skyloom_common.errors import InvalidArgument
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Cursor", "PageRequest", "page_request"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TOKEN_PATH = "pagination.token"


@dataclass(frozen=True, slots=True)
class Cursor:
    """The position after which the next page starts."""

    created_at: datetime
    seq: int


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a repository needs to read one page (``limit`` rows after ``after``)."""

    limit: int
    ascending: bool
    after: Cursor | None
    fingerprint: str

    def token_for(self, cursor: Cursor) -> str:
        micros = (cursor.created_at - _EPOCH) // timedelta(microseconds=1)
        raw = json.dumps({"c": micros, "s": cursor.seq, "f": self.fingerprint}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _fingerprint(scope: str, *parts: bytes) -> str:
    digest = hashlib.sha256(scope.encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:16]


def _decode(token: str, fingerprint: str) -> Cursor:
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        micros, seq, seen = body["c"], body["s"], body["f"]
        if not (isinstance(micros, int) and isinstance(seq, int) and isinstance(seen, str)):
            raise TypeError("bad field types")
        created_at = _EPOCH + timedelta(microseconds=micros)
    except (ValueError, TypeError, KeyError, OverflowError, binascii.Error, UnicodeError):
        raise InvalidArgument.for_field(_TOKEN_PATH, "is not a token this service issued") from None
    if seen != fingerprint:
        raise InvalidArgument.for_field(
            _TOKEN_PATH, "belongs to a different query (filter, sort or entity changed)"
        )
    return Cursor(created_at, seq)


def page_request(scope: str, options: dc.PaginationOptions, *query: bytes) -> PageRequest:
    """The page ``options`` ask for; ``scope`` and ``query`` (serialized filters, ids) make the
    token fingerprint. Raises ``InvalidArgument`` at ``pagination.token`` for a foreign token."""
    ascending = options.sort_order == dc.PaginationOptions.SORT_ORDER_ASCENDING
    fingerprint = _fingerprint(scope, str(ascending).encode(), *query)
    limit = DEFAULT_LIMIT if options.limit == 0 else min(options.limit, MAX_LIMIT)
    after = _decode(options.token, fingerprint) if options.token else None
    return PageRequest(limit=limit, ascending=ascending, after=after, fingerprint=fingerprint)
