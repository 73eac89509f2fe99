"""``datetime.date`` as a ``Timestamp`` primitive at midnight UTC; decoded back to a ``date``.

The literal type is ``SIMPLE_TYPE_DATETIME``, the same as ``datetime``'s, so a ``date`` output
can feed a ``datetime`` input. Decoding a timestamp that is not at midnight UTC keeps only its
UTC date.
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


class DateTransformer(TypeTransformer[dt.date]):
    """``date`` ↔ ``Primitive.datetime`` (midnight UTC)."""

    name = "date"

    def matches(self, python_type: TypeHint) -> bool:
        return python_type is dt.date

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return simple(types_pb2.SIMPLE_TYPE_DATETIME)

    def to_literal(
        self, value: dt.date, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise TypeTransformerError.for_value("date", value)
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
        return scalar(primitive=literals_pb2.Primitive(datetime=ts))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> dt.date:
        if literal_kind(literal) != "datetime":
            raise TypeTransformerError("date", f"a {literal_kind(literal)} literal")
        return literal.scalar.primitive.datetime.ToDatetime(tzinfo=dt.UTC).date()
