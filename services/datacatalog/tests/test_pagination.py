"""Page tokens are opaque, bound to their query, and refuse tampering."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from skyloom_common.errors import InvalidArgument
from skyloom_datacatalog.pagination import MAX_LIMIT, Cursor, page_request
from skyloom_idl.datacatalog import datacatalog_pb2 as dc


def test_token_round_trips_the_cursor() -> None:
    first = page_request("artifacts:1", dc.PaginationOptions(limit=5), b"filter")
    cursor = Cursor(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), 42)
    token = first.token_for(cursor)
    again = page_request("artifacts:1", dc.PaginationOptions(limit=5, token=token), b"filter")
    assert again.after == cursor
    assert again.limit == 5


def test_limits_default_and_clamp() -> None:
    assert page_request("s", dc.PaginationOptions()).limit == 100
    assert page_request("s", dc.PaginationOptions(limit=10**6)).limit == MAX_LIMIT
    assert not page_request("s", dc.PaginationOptions()).ascending
    asc = dc.PaginationOptions(sort_order=dc.PaginationOptions.SORT_ORDER_ASCENDING)
    assert page_request("s", asc).ascending


@pytest.mark.parametrize(
    ("scope", "query", "order"),
    [
        ("artifacts:2", b"filter", dc.PaginationOptions.SORT_ORDER_DESCENDING),
        ("artifacts:1", b"other filter", dc.PaginationOptions.SORT_ORDER_DESCENDING),
        ("artifacts:1", b"filter", dc.PaginationOptions.SORT_ORDER_ASCENDING),
    ],
)
def test_a_token_from_another_query_is_refused(scope: str, query: bytes, order: int) -> None:
    token = page_request("artifacts:1", dc.PaginationOptions(), b"filter").token_for(
        Cursor(datetime(2026, 1, 1, tzinfo=UTC), 1)
    )
    with pytest.raises(InvalidArgument) as info:
        page_request(scope, dc.PaginationOptions(token=token, sort_order=order), query)
    assert info.value.field_paths == ("pagination.token",)


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(json.dumps({"c": "x", "s": 1, "f": "y"}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps([1, 2]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"c": 10**30, "s": 1, "f": "y"}).encode()).decode(),
    ],
)
def test_garbage_tokens_are_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        page_request("s", dc.PaginationOptions(token=token))
    assert info.value.field_paths == ("pagination.token",)
