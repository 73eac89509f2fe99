# ruff: noqa: UP007, UP045 - typing.Optional/Union are tested on purpose
"""Union variant selection and tags."""

from __future__ import annotations

import dataclasses
from typing import Optional, Union

from skyloom.types import TransferContext, TypeEngine
from skyloom_idl.core import literals_pb2


@dataclasses.dataclass
class A:
    a: int


@dataclasses.dataclass
class B:
    b: str


def test_first_accepting_variant_is_chosen(engine: TypeEngine, ctx: TransferContext) -> None:
    lit = engine.to_literal(3, Union[int, float], ctx)
    assert lit.scalar.union.type.structure.tag == "int"
    lit = engine.to_literal(3, Union[float, int], ctx)
    assert lit.scalar.union.type.structure.tag == "float"
    assert engine.to_python(lit, Union[float, int], ctx) == 3.0


def test_dataclass_variants_by_tag(engine: TypeEngine, ctx: TransferContext) -> None:
    lit = engine.to_literal(B("x"), Union[A, B], ctx)
    assert lit.scalar.union.type.structure.tag == "B"
    assert engine.to_python(lit, Union[A, B], ctx) == B("x")


def test_optional_none_is_void(engine: TypeEngine, ctx: TransferContext) -> None:
    lit = engine.to_literal(None, Optional[int], ctx)
    assert lit.scalar.union.value.scalar.HasField("none_type")
    assert lit.scalar.union.type.structure.tag == "none"


def test_bare_literals_are_accepted_for_unions(engine: TypeEngine, ctx: TransferContext) -> None:
    void = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
    assert engine.to_python(void, Optional[int], ctx) is None
    bare = engine.to_literal("s", str, ctx)
    assert engine.to_python(bare, Union[int, str], ctx) == "s"


def test_list_of_optionals(engine: TypeEngine, ctx: TransferContext) -> None:
    value = [1, None, 3]
    lit = engine.to_literal(value, list[Optional[int]], ctx)
    assert engine.to_python(lit, list[Optional[int]], ctx) == value
