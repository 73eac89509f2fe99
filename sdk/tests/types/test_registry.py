"""Registration order, the pickle fallback, and what importing the engine pulls in."""

from __future__ import annotations

import subprocess
import sys

import pytest

from skyloom.types import (
    RegistrationError,
    TransferContext,
    TypeEngine,
    TypeTransformer,
    TypeTransformerError,
    default_engine,
)
from skyloom.types.hints import TypeHint
from skyloom.types.protos import scalar
from skyloom_idl.core import literals_pb2, types_pb2


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    __hash__ = None  # type: ignore[assignment]


class PointTransformer(TypeTransformer[Point]):
    name = "point"

    def matches(self, python_type: TypeHint) -> bool:
        return python_type is Point

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_STRING)

    def to_literal(
        self, value: Point, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        if not isinstance(value, Point):
            raise TypeTransformerError.for_value("Point", value)
        return scalar(primitive=literals_pb2.Primitive(string_value=f"{value.x},{value.y}"))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> Point:
        x, y = literal.scalar.primitive.string_value.split(",")
        return Point(int(x), int(y))


class UpperStr(TypeTransformer[str]):
    """A user's str transformer that must win over the built-in."""

    name = "upper-str"

    def matches(self, python_type: TypeHint) -> bool:
        return python_type is str

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_STRING)

    def to_literal(
        self, value: str, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        return scalar(primitive=literals_pb2.Primitive(string_value=value.upper()))

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> str:
        return literal.scalar.primitive.string_value


def test_custom_transformer(engine: TypeEngine, ctx: TransferContext) -> None:
    engine.register(PointTransformer())
    lit = engine.to_literal(Point(1, 2), Point, ctx)
    assert lit.scalar.primitive.string_value == "1,2"
    assert engine.to_python(lit, Point, ctx) == Point(1, 2)
    assert engine.to_python(
        engine.to_literal([Point(3, 4)], list[Point], ctx), list[Point], ctx
    ) == [Point(3, 4)]


def test_user_transformer_wins_over_builtin(engine: TypeEngine, ctx: TransferContext) -> None:
    assert engine.to_literal("a", str, ctx).scalar.primitive.string_value == "a"
    engine.register(UpperStr())
    assert engine.to_literal("a", str, ctx).scalar.primitive.string_value == "A"
    # and inside containers, which recurse through the engine
    lit = engine.to_literal({"k": ["b"]}, dict[str, list[str]], ctx)
    assert lit.map.literals["k"].collection.literals[0].scalar.primitive.string_value == "B"


def test_duplicate_name_needs_override(engine: TypeEngine) -> None:
    engine.register(PointTransformer())
    with pytest.raises(RegistrationError, match="'point' is already registered"):
        engine.register(PointTransformer())
    engine.register(PointTransformer(), override=True)
    assert [t.name for t in engine.transformers].count("point") == 1


def test_default_engine_is_shared() -> None:
    assert default_engine() is default_engine()


class Opaque:
    def __init__(self, v: int) -> None:
        self.v = v


def test_pickle_fallback_warns_and_round_trips(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.warns(UserWarning, match=r"no transformer for Opaque.*skyloom\.types\.register"):
        lt = engine.literal_type(Opaque)
    assert lt.simple == types_pb2.SIMPLE_TYPE_ANY
    lit = engine.to_literal(Opaque(5), Opaque, ctx)  # cached: no second warning
    assert lit.scalar.binary.tag == "pickle"
    back = engine.to_python(lit, Opaque, ctx)
    assert isinstance(back, Opaque)
    assert back.v == 5


def test_untyped_containers_fall_back(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.warns(UserWarning, match="no transformer for list"):
        lit = engine.to_literal([1, "a"], list, ctx)
    assert engine.to_python(lit, list, ctx) == [1, "a"]


def test_import_does_not_pull_optional_libraries() -> None:
    code = (
        "import sys, skyloom.types, skyloom.files\n"
        "skyloom.types.default_engine().literal_type(list[int])\n"
        "heavy = [m for m in ('pandas', 'numpy', 'pyarrow', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
