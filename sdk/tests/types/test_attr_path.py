"""Resolving ``cfg.layers[0].width`` on literal types and literals, without Python classes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from pathlib import Path
from typing import Optional

import pytest

from skyloom.files import File
from skyloom.types import TransferContext, TypeEngine, TypeTransformerError
from skyloom.types.attr_path import select, select_type
from skyloom.types.hints import TypeHint
from skyloom.types.schema import json_schema, literal_type_from_schema


class Act(enum.Enum):
    RELU = "relu"


@dataclasses.dataclass
class Layer:
    width: int
    act: Act = Act.RELU


@dataclasses.dataclass
class Cfg:
    layers: list[Layer]
    by_name: dict[str, float]
    when: dt.datetime
    weights: Optional[File] = None  # noqa: UP045 - typing.Optional on purpose
    parent: Optional[Layer] = None  # noqa: UP045
    either: int | str = 0


@pytest.mark.parametrize(
    "hint",
    [
        int,
        float,
        str,
        bytes,
        dt.datetime,
        dt.timedelta,
        Act,
        list[int],
        dict[str, list[Layer]],
        int | None,
        int | str,
        File,
        Layer,
        Cfg,
    ],
    ids=repr,
)
def test_schema_inverts_exactly(engine: TypeEngine, hint: TypeHint) -> None:
    lt = engine.literal_type(hint)
    assert literal_type_from_schema(json_schema(lt)) == lt


def test_select_type(engine: TypeEngine) -> None:
    lt = engine.literal_type(Cfg)
    assert select_type(lt, ["layers", 0, "width"]) == engine.literal_type(int)
    assert select_type(lt, ["by_name", "x"]) == engine.literal_type(float)
    assert select_type(lt, ["parent", "act"]) == engine.literal_type(Act)
    assert select_type(lt, ["weights"]) == engine.literal_type(Optional[File])  # noqa: UP045
    with pytest.raises(TypeTransformerError, match="record with field 'nope'"):
        select_type(lt, ["layers", 0, "nope"])
    with pytest.raises(TypeTransformerError, match=r"at '.layers\[0\].width'"):
        select_type(lt, ["layers", 0, "width", "deeper"])


def test_select_values(engine: TypeEngine, ctx: TransferContext, tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(b"w")
    cfg = Cfg(
        [Layer(4), Layer(8)],
        {"a": 0.5},
        dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        weights=File(path),
        parent=Layer(2),
    )
    lit = engine.to_literal(cfg, Cfg, ctx)
    lt = engine.literal_type(Cfg)

    def get(*path: str | int) -> object:
        sub, sub_lt = select(lit, lt, path)
        assert sub_lt == select_type(lt, path)
        hint = engine.guess_python_type(sub_lt)
        return engine.to_python(sub, hint, ctx)

    assert get("layers", 1, "width") == 8
    assert get("layers", -1, "act").value == "relu"  # type: ignore[attr-defined]
    assert get("by_name", "a") == 0.5
    assert get("when") == cfg.when
    assert get("parent", "width") == 2
    weights = get("weights")
    assert isinstance(weights, File)
    assert weights.read_bytes() == b"w"
    assert get("either") == 0
    with pytest.raises(TypeTransformerError, match="list with index 5"):
        select(lit, lt, ["layers", 5])


def test_select_through_none_is_an_error(engine: TypeEngine, ctx: TransferContext) -> None:
    cfg = Cfg([], {}, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    lit = engine.to_literal(cfg, Cfg, ctx)
    with pytest.raises(
        TypeTransformerError, match=r"expected a value at '.parent', got None before 'width'"
    ):
        select(lit, engine.literal_type(Cfg), ["parent", "width"])
