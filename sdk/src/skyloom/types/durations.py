"""``datetime.timedelta`` as a ``Duration`` primitive (microsecond precision)."""

from __future__ import annotations

import datetime as dt

from google.protobuf import duration_pb2

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint
from skyloom.types.protos import literal_kind, scalar, simple
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


class TimedeltaTransformer(TypeTransformer[dt.timedelta]):
    """``timedelta`` ↔ ``Primitive.duration``."""

    name = "timedelta"

    def matches(self, python_type: TypeHint) -> bool:
        return python_type is dt.timedelta

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return simple(types_pb2.SIMPLE_TYPE_DURATION)

    def to_literal(
        self, value: dt.timedelta, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, dt.timedelta):
            raise TypeTransformerError.for_value("timedelta", value)
        dur = duration_pb2.Duration()
        dur.FromTimedelta(value)
        return scalar(primitive=literals_pb2.Primitive(duration=dur))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> dt.timedelta:
        if literal_kind(literal) != "duration":
            raise TypeTransformerError("timedelta", f"a {literal_kind(literal)} literal")
        return literal.scalar.primitive.duration.ToTimedelta()

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.simple == types_pb2.SIMPLE_TYPE_DURATION

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return dt.timedelta
