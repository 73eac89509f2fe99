"""``dict[str, T]`` as a ``LiteralMap`` whose values are converted as ``T`` (recursively)."""

from __future__ import annotations

from typing import get_args, get_origin

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, type_name
from skyloom.types.protos import literal_kind
from skyloom.types.transformer import Converter, TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


def _value_type(python_type: TypeHint) -> TypeHint:
    return get_args(python_type)[1]


class DictTransformer(TypeTransformer[dict[str, object]]):
    """``dict[str, T]`` ↔ ``Literal.map``. Keys must be ``str`` (the literal map's keys are);
    other key types and a bare ``dict`` are not matched and go to the fallback."""

    name = "dict"

    def __init__(self, engine: Converter) -> None:
        self._engine = engine

    def matches(self, python_type: TypeHint) -> bool:
        args = get_args(python_type)
        return get_origin(python_type) is dict and len(args) == 2 and args[0] is str

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(
            map_value_type=self._engine.literal_type(_value_type(python_type))
        )

    def to_literal(
        self, value: dict[str, object], python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, dict):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        item = _value_type(python_type)
        out = literals_pb2.LiteralMap()
        for key, element in value.items():
            if not isinstance(key, str):
                raise TypeTransformerError.for_value("a str key", key)
            try:
                out.literals[key].CopyFrom(self._engine.to_literal(element, item, ctx))
            except TypeTransformerError as err:
                raise err.at_key(key) from err
        return literals_pb2.Literal(map=out)

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> dict[str, object]:
        if literal.WhichOneof("value") != "map":
            raise TypeTransformerError(type_name(python_type), f"a {literal_kind(literal)} literal")
        item = _value_type(python_type)
        out: dict[str, object] = {}
        for key in sorted(literal.map.literals):
            try:
                out[key] = self._engine.to_python(literal.map.literals[key], item, ctx)
            except TypeTransformerError as err:
                raise err.at_key(key) from err
        return out

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.WhichOneof("type") == "map_value_type"

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        item = self._engine.guess_python_type(literal_type.map_value_type)
        return dict[str, item]  # type: ignore[valid-type]
