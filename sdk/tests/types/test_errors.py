# ruff: noqa: UP007 - typing.Union is tested on purpose
"""Errors read well for an author: what was expected, where, and what was given."""

from __future__ import annotations

import dataclasses
from typing import Union

import pytest

from skyloom.types import TransferContext, TypeEngine, TypeTransformerError


@dataclasses.dataclass
class Opt:
    lr: float
    name: str = "x"


def test_input_error_names_the_input(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError) as info:
        engine.literal_map({"scale": "abc"}, {"scale": int}, ctx)
    assert str(info.value) == "expected int for input 'scale', got str 'abc'"
    assert info.value.path.var == "scale"
    assert info.value.expected == "int"


def test_nested_path(engine: TypeEngine, ctx: TransferContext) -> None:
    xs = [Opt(0.1), Opt(0.2), Opt(0.3), Opt("fast")]  # type: ignore[arg-type]
    with pytest.raises(TypeTransformerError) as info:
        engine.literal_map({"xs": xs}, {"xs": list[Opt]}, ctx)
    assert str(info.value) == "expected float for input 'xs[3].lr', got str 'fast'"
    assert info.value.path.render() == "xs[3].lr"


def test_dict_key_path_and_output_kind(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError) as info:
        engine.literal_map(
            {"o0": {"a": [1, True]}}, {"o0": dict[str, list[int]]}, ctx, kind="output"
        )
    assert str(info.value) == "expected int for output 'o0['a'][1]', got bool True"


def test_bool_is_not_an_int(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError, match="expected int, got bool True"):
        engine.to_literal(True, int, ctx)


def test_int_out_of_range(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError, match="int within 64 bits"):
        engine.to_literal(2**64, int, ctx)


def test_union_error_lists_the_union(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError, match=r"expected int \| str, got float 1.5"):
        engine.to_literal(1.5, Union[int, str], ctx)


def test_missing_and_unknown_names(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError, match="for input 'b'"):
        engine.literal_map({"a": 1}, {"a": int, "b": int}, ctx)
    with pytest.raises(TypeTransformerError, match="unknown input 'c'"):
        engine.literal_map({"a": 1, "c": 2}, {"a": int}, ctx)


def test_literal_of_wrong_kind(engine: TypeEngine, ctx: TransferContext) -> None:
    lm = engine.literal_map({"x": "s"}, {"x": str}, ctx)
    with pytest.raises(TypeTransformerError) as info:
        engine.python_values(lm, {"x": int}, ctx)
    assert str(info.value) == "expected int for input 'x', got a string_value literal"


def test_long_values_are_shortened(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError) as info:
        engine.to_literal("y" * 500, int, ctx)
    assert len(str(info.value)) < 100
    assert str(info.value).endswith("...")


def test_error_is_a_type_error() -> None:
    assert issubclass(TypeTransformerError, TypeError)
