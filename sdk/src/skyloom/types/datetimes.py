"""``datetime.datetime`` as a ``Timestamp`` primitive, normalized to UTC.

An aware datetime is converted to UTC; a naive one is taken to already be UTC (never local
time, so the same code gives the same literal on every machine). Decoding always returns an
aware UTC datetime: a naive value does not compare equal to its round trip — pass aware
datetimes. Precision is microseconds, as in Python.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint
from skyloom.types.protos import literal_kind, scalar, simple
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


def to_utc(value: dt.datetime) -> dt.datetime:
    """Aware → UTC; naive → the same wall time in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class DatetimeTransformer(TypeTransformer[dt.datetime]):
    """``datetime`` ↔ ``Primitive.datetime`` (UTC)."""

    name = "datetime"

    def matches(self, python_type: TypeHint) -> bool:
        return python_type is dt.datetime

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return simple(types_pb2.SIMPLE_TYPE_DATETIME)

    def to_literal(
        self, value: dt.datetime, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, dt.datetime):
            raise TypeTransformerError.for_value("datetime", value)
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(to_utc(value))
        return scalar(primitive=literals_pb2.Primitive(datetime=ts))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> dt.datetime:
        if literal_kind(literal) != "datetime":
            raise TypeTransformerError("datetime", f"a {literal_kind(literal)} literal")
        return literal.scalar.primitive.datetime.ToDatetime(tzinfo=dt.UTC)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.simple == types_pb2.SIMPLE_TYPE_DATETIME

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return dt.datetime
