"""``Union[...]``, ``Optional[T]`` and ``A | B`` as a ``UnionType``.

Each variant's literal type carries a ``TypeStructure`` tag (the variant's type name, ``"none"``
for ``None``), and a value is encoded as the **first** variant, in declaration order, whose
transformer accepts it (so ``float | int`` stores ``3`` as ``3.0``; write ``int | float``).
``None`` is encoded as the ``Void`` scalar inside the union. Decoding picks the variant by the
tag the literal carries; a literal that is not a union (a bare value or ``Void``, e.g. from a
CLI or an older caller) is tried against each variant in order.
"""

from __future__ import annotations

from typing import get_args

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError, short_repr
from skyloom.types.hints import TypeHint, is_union, type_name
from skyloom.types.protos import scalar, scalar_kind
from skyloom.types.transformer import Converter, TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2

NONE_TAG = "none"
_NONE_TYPE = type(None)


def _variants(python_type: TypeHint) -> tuple[TypeHint, ...]:
    return get_args(python_type)


def variant_tag(hint: TypeHint) -> str:
    """The ``TypeStructure`` tag of a union variant."""
    return NONE_TAG if hint is _NONE_TYPE else type_name(hint)


class UnionTransformer(TypeTransformer[object]):
    """Any union ↔ ``Scalar.union`` (``Union(value, type)``)."""

    name = "union"

    def __init__(self, engine: Converter) -> None:
        self._engine = engine

    def matches(self, python_type: TypeHint) -> bool:
        return is_union(python_type)

    def _variant_type(self, hint: TypeHint) -> types_pb2.LiteralType:
        if hint is _NONE_TYPE:
            lt = types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_NONE)
        else:
            lt = types_pb2.LiteralType()
            lt.CopyFrom(self._engine.literal_type(hint))
        lt.structure.tag = variant_tag(hint)
        return lt

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        variants = [self._variant_type(v) for v in _variants(python_type)]
        return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=variants))

    def to_literal(
        self, value: object, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        variants = _variants(python_type)
        for hint in variants:
            if hint is _NONE_TYPE:
                if value is None:
                    inner = scalar(none_type=literals_pb2.Void())
                    return self._wrap(inner, hint)
                continue
            if value is None:
                continue
            try:
                inner = self._engine.to_literal(value, hint, ctx)
            except TypeTransformerError:
                continue
            return self._wrap(inner, hint)
        raise TypeTransformerError(
            type_name(python_type), f"{type(value).__name__} {short_repr(value)}"
        )

    def _wrap(self, inner: literals_pb2.Literal, hint: TypeHint) -> literals_pb2.Literal:
        union = literals_pb2.Union(value=inner, type=self._variant_type(hint))
        out = scalar(union=union)
        if inner.hash:
            out.hash = inner.hash
        return out

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> object:
        variants = _variants(python_type)
        if scalar_kind(literal) == "union":
            tag = literal.scalar.union.type.structure.tag
            inner = literal.scalar.union.value
            for hint in variants:
                if variant_tag(hint) == tag:
                    return self._decode(inner, hint, ctx)
            candidates: tuple[TypeHint, ...] = variants
        else:
            inner = literal
            candidates = variants
        for hint in candidates:
            try:
                return self._decode(inner, hint, ctx)
            except TypeTransformerError:
                continue
        raise TypeTransformerError(type_name(python_type), "a literal no variant accepts")

    def _decode(self, inner: literals_pb2.Literal, hint: TypeHint, ctx: TransferContext) -> object:
        if hint is _NONE_TYPE:
            if scalar_kind(inner) == "none_type":
                return None
            raise TypeTransformerError("None", "a value")
        return self._engine.to_python(inner, hint, ctx)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return literal_type.WhichOneof("type") == "union_type"

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        hints: list[TypeHint] = []
        for variant in literal_type.union_type.variants:
            if variant.WhichOneof("type") == "simple" and (
                variant.simple == types_pb2.SIMPLE_TYPE_NONE
            ):
                hints.append(_NONE_TYPE)
            else:
                hints.append(self._engine.guess_python_type(variant))
        out: TypeHint = hints[0]
        for hint in hints[1:]:
            out = out | hint  # type: ignore[operator]
        return out
