"""``list[T]`` as a ``LiteralCollection`` whose elements are converted as ``T`` (recursively)."""

from __future__ import annotations

from typing import get_args, get_origin

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, type_name
from skyloom.types.primitives import PrimitiveTransformer
from skyloom.types.protos import literal_kind
from skyloom.types.transformer import Converter, TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


def _item_type(python_type: TypeHint) -> TypeHint:
    (item,) = get_args(python_type)
    return item


class ListTransformer(TypeTransformer[list[object]]):
    """``list[T]`` ↔ ``Literal.collection``; a bare ``list`` is not matched (it goes to the
    fallback), because its elements have no declared type. Tuples are not lists."""

    name = "list"

    def __init__(self, engine: Converter) -> None:
        self._engine = engine

    def _element(self, item: TypeHint) -> Converter | TypeTransformer[object]:
        """What converts the elements: the element type's transformer when it takes the hint
        as is (found once per list, not per element: lists of a thousand scalars are common
        map inputs), else the engine."""
        transformer = self._engine.transformer_for(item)
        return transformer if transformer.matches(item) else self._engine

    def matches(self, python_type: TypeHint) -> bool:
        return get_origin(python_type) is list and len(get_args(python_type)) == 1

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(
            collection_type=self._engine.literal_type(_item_type(python_type))
        )

    def to_literal(
        self, value: list[object], python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, list):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        item = _item_type(python_type)
        each = self._element(item)
        out = literals_pb2.Literal()
        out.collection.SetInParent()  # an empty list is an empty collection, not unset
        literals = out.collection.literals
        if type(each) is PrimitiveTransformer:
            each.extend_literals(literals, value, ctx)  # scalars in one pass, in place
            return out
        convert = each.to_literal
        for i, element in enumerate(value):
            try:
                literals.append(convert(element, item, ctx))
            except TypeTransformerError as err:
                raise err.at_index(i) from err
        return out

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> list[object]:
        if literal.WhichOneof("value") != "collection":
            raise TypeTransformerError(type_name(python_type), f"a {literal_kind(literal)} literal")
        item = _item_type(python_type)
        each = self._element(item)
        if type(each) is PrimitiveTransformer:
            return each.values_of(literal.collection.literals, ctx)
        convert = each.to_python
        out: list[object] = []
        for i, element in enumerate(literal.collection.literals):
            try:
                out.append(convert(element, item, ctx))
            except TypeTransformerError as err:
                raise err.at_index(i) from err
        return out

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.WhichOneof("type") == "collection_type"

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        item = self._engine.guess_python_type(literal_type.collection_type)
        return list[item]  # type: ignore[valid-type]
