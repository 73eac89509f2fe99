"""Structured list filters, sorting and keyset page tokens, turned into parameterized SQL.

Every List request carries ``filter_by`` (ANDed ``Filter{field, op, values}``), ``sort_by``
and ``page`` (see proto/skyloom/admin/common.proto and ADR 0040). A :class:`Listing` is the
allow-list of one entity: each filterable field names its SQL column and its type; nothing
else ever reaches SQL (values always travel as parameters; a ``labels.<key>`` key does too).

Use::

    sql = Sql()                                   # collects $n parameters
    where = [f"project = {sql.param(project)}"]
    page = TASKS.query(sql, request.filter_by, request.sort_by, request.page)
    where += page.where
    rows = await conn.fetch(f"SELECT ... WHERE {' AND '.join(where)} "
                            f"ORDER BY {page.order_by} LIMIT {page.fetch_limit}", *sql.params)
    rows, next_token = page.finish(rows)

Page tokens are opaque: base64url JSON of the last row's sort value and tie-breaker, plus a
fingerprint of the filters and sort, so a token reused with other filters (or tampered with)
is ``INVALID_ARGUMENT`` at ``page.token`` rather than a silently wrong page.

Errors (``InvalidArgument``, every violation reported at once) name ``filter_by[i].field``,
``filter_by[i].op``, ``filter_by[i].values[j]``, ``sort_by.key`` and ``page.token``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skyloom_common.errors import FieldViolation, InvalidArgument
from skyloom_idl.admin import common_pb2

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Column",
    "Kind",
    "Listing",
    "Page",
    "Sql",
    "decode_token",
    "encode_token",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
Op = common_pb2.Filter.Operator
_SQL_OPS = {
    Op.OPERATOR_EQ: "=",
    Op.OPERATOR_NE: "<>",
    Op.OPERATOR_GT: ">",
    Op.OPERATOR_GTE: ">=",
    Op.OPERATOR_LT: "<",
    Op.OPERATOR_LTE: "<=",
}
_ORDERED = {Op.OPERATOR_GT, Op.OPERATOR_GTE, Op.OPERATOR_LT, Op.OPERATOR_LTE}


class Kind(enum.Enum):
    TEXT = "text"
    INT = "bigint"
    TIME = "timestamptz"
    BOOL = "boolean"
    ENUM = "int"


@dataclass(frozen=True)
class Column:
    """One filterable/sortable field: its SQL expression (trusted, from code) and type.

    ``enum_values`` maps accepted value names (``"STATE_ACTIVE"``) to stored integers.
    """

    sql: str
    kind: Kind = Kind.TEXT
    sortable: bool = True
    enum_values: Mapping[str, int] = field(default_factory=dict)

    def parse(self, value: str) -> object:
        """The Python value for a filter string; raises ValueError with a readable reason."""
        if self.kind is Kind.TEXT:
            return value
        if self.kind is Kind.INT:
            return int(value)
        if self.kind is Kind.BOOL:
            if value not in ("true", "false"):
                raise ValueError("expected true or false")
            return value == "true"
        if self.kind is Kind.ENUM:
            if value not in self.enum_values:
                raise ValueError(f"expected one of {sorted(self.enum_values)}")
            return self.enum_values[value]
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("an RFC 3339 timestamp needs a time zone offset or Z")
        return parsed


class Sql:
    """Collects positional parameters; :meth:`param` returns the ``$n`` placeholder."""

    def __init__(self) -> None:
        self.params: list[object] = []

    def param(self, value: object, cast: str | None = None) -> str:
        self.params.append(value)
        placeholder = f"${len(self.params)}"
        return f"{placeholder}::{cast}" if cast else placeholder


def encode_token(state: Mapping[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, path: str = "page.token") -> dict[str, Any]:
    """The state inside a token, or ``InvalidArgument`` at ``path``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument.for_field(path, "is not a page token from this server") from None
    if not isinstance(state, dict):
        raise InvalidArgument.for_field(path, "is not a page token from this server")
    return state


@dataclass
class Page:
    """A planned page: SQL fragments to add, and how to turn rows into the next token."""

    where: list[str]
    order_by: str
    limit: int
    sort_key: str
    tiebreak_key: str
    fingerprint: str

    @property
    def fetch_limit(self) -> int:
        """One row more than the page, to know whether another page follows."""
        return self.limit + 1

    def finish(self, rows: Sequence[Any]) -> tuple[list[Any], str]:
        """The rows of this page and the next token ("" on the last page). Rows must expose
        the sort column and the tie-breaker under the names ``sort_key``/``tiebreak_key``."""
        page = list(rows[: self.limit])
        if len(rows) <= self.limit:
            return page, ""
        last = page[-1]
        value = last[self.sort_key]
        encoded = value.isoformat() if isinstance(value, datetime) else value
        return page, encode_token(
            {"f": self.fingerprint, "v": encoded, "k": last[self.tiebreak_key]}
        )


@dataclass(frozen=True)
class Listing:
    """The allow-list of one listed entity.

    ``columns`` maps filter/sort field names to columns; ``labels`` is the jsonb column for
    ``labels.<key>`` filters (None: not filterable by label); ``tiebreak`` a unique column
    (selected as ``tiebreak_key``) that orders ties; ``default_sort`` and
    ``default_ascending`` give the order when the request names none.
    """

    columns: Mapping[str, Column]
    tiebreak: str
    default_sort: str = "created_at"
    default_ascending: bool = False
    labels: str | None = None

    def query(
        self,
        sql: Sql,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
    ) -> Page:
        violations: list[FieldViolation] = []
        where: list[str] = []
        for i, f in enumerate(filters):
            where += self._condition(sql, f, f"filter_by[{i}]", violations)
        key = sort.key or self.default_sort
        column = self.columns.get(key)
        if column is None or not column.sortable:
            sortable = sorted(k for k, c in self.columns.items() if c.sortable)
            violations.append(
                FieldViolation("sort_by.key", f"cannot sort by {key!r}; sortable: {sortable}")
            )
            column = self.columns[self.default_sort]
            key = self.default_sort
        if sort.direction == common_pb2.Sort.DIRECTION_UNSPECIFIED:
            ascending = self.default_ascending
        else:
            ascending = sort.direction == common_pb2.Sort.DIRECTION_ASCENDING
        fingerprint = hashlib.sha256(
            b"".join(f.SerializeToString(deterministic=True) + b"\x00" for f in filters)
            + f"|{key}|{ascending}".encode()
        ).hexdigest()[:16]
        if page.token:
            try:
                state = decode_token(page.token)
                if state.get("f") != fingerprint:
                    raise ValueError("token was issued for other filters or another sort")
                value = (
                    column.parse(str(state["v"]))
                    if column.kind is not Kind.INT
                    else int(state["v"])
                )
                tiebreak = int(state["k"])
            except InvalidArgument as exc:
                violations += exc.violations
            except (KeyError, ValueError, TypeError) as exc:
                violations.append(FieldViolation("page.token", f"invalid page token: {exc}"))
            else:
                cmp = ">" if ascending else "<"
                where.append(
                    f"({column.sql}, {self.tiebreak}) {cmp} "
                    f"({sql.param(value, column.kind.value)}, {sql.param(tiebreak, 'bigint')})"
                )
        if violations:
            raise InvalidArgument(
                "; ".join(f"{v.field}: {v.description}" for v in violations),
                violations=violations,
            )
        direction = "ASC" if ascending else "DESC"
        limit = min(page.limit or DEFAULT_LIMIT, MAX_LIMIT)
        return Page(
            where=where,
            order_by=f"{column.sql} {direction}, {self.tiebreak} {direction}",
            limit=limit,
            sort_key="sort_key",
            tiebreak_key="tiebreak_key",
            fingerprint=fingerprint,
        )

    def select_keys(self, sort: common_pb2.Sort) -> str:
        """``<sort column> AS sort_key, <tiebreak> AS tiebreak_key`` for the SELECT list."""
        column = self.columns.get(sort.key or self.default_sort)
        if column is None or not column.sortable:
            column = self.columns[self.default_sort]
        return f"{column.sql} AS sort_key, {self.tiebreak} AS tiebreak_key"

    def _condition(
        self, sql: Sql, f: common_pb2.Filter, path: str, violations: list[FieldViolation]
    ) -> list[str]:
        column = self.columns.get(f.field)
        if column is None and self.labels is not None and f.field.startswith("labels."):
            label = f.field.removeprefix("labels.")
            if not label:
                violations.append(FieldViolation(f"{path}.field", "a label key is required"))
                return []
            column = Column(f"({self.labels} ->> {sql.param(label)})", sortable=False)
        if column is None:
            known = sorted(self.columns) + (["labels.<key>"] if self.labels else [])
            violations.append(
                FieldViolation(f"{path}.field", f"unknown field {f.field!r}; filterable: {known}")
            )
            return []
        if f.op == Op.OPERATOR_UNSPECIFIED or f.op not in Op.values():
            violations.append(FieldViolation(f"{path}.op", "an operator is required"))
            return []
        many = f.op in (Op.OPERATOR_VALUE_IN, Op.OPERATOR_VALUE_NOT_IN)
        if (many and not f.values) or (not many and len(f.values) != 1):
            need = "one or more values" if many else "exactly one value"
            violations.append(FieldViolation(f"{path}.values", f"{Op.Name(f.op)} takes {need}"))
            return []
        if f.op == Op.OPERATOR_CONTAINS and column.kind is not Kind.TEXT:
            violations.append(FieldViolation(f"{path}.op", "CONTAINS applies to text fields"))
            return []
        if f.op in _ORDERED and column.kind in (Kind.BOOL, Kind.ENUM):
            violations.append(FieldViolation(f"{path}.op", f"{f.field} is not ordered"))
            return []
        parsed: list[object] = []
        for j, raw in enumerate(f.values):
            try:
                parsed.append(column.parse(raw))
            except ValueError as exc:
                violations.append(
                    FieldViolation(f"{path}.values[{j}]", f"not a valid {f.field}: {exc}")
                )
        if len(parsed) != len(f.values):
            return []
        cast = column.kind.value
        if f.op == Op.OPERATOR_CONTAINS:
            return [f"strpos({column.sql}, {sql.param(parsed[0])}) > 0"]
        if many:
            negate = "NOT " if f.op == Op.OPERATOR_VALUE_NOT_IN else ""
            return [f"{negate}({column.sql} = ANY({sql.param(parsed, cast + '[]')}))"]
        return [f"{column.sql} {_SQL_OPS[f.op]} {sql.param(parsed[0], cast)}"]
