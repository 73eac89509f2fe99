"""pydantic v2 models: same STRUCT encoding as dataclasses, validators run on decode."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pydantic
import pytest
from google.protobuf import json_format

from skyloom.files import File
from skyloom.types import TransferContext, TypeEngine, TypeTransformerError


class Layer(pydantic.BaseModel):
    width: int
    act: str = "relu"


class Model(pydantic.BaseModel):
    name: str
    layers: list[Layer]
    created: dt.datetime
    notes: dict[str, float] = {}
    parent: Layer | None = None


class WithFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    weights: File


def test_model_round_trip(engine: TypeEngine, ctx: TransferContext) -> None:
    value = Model(
        name="m",
        layers=[Layer(width=4), Layer(width=8, act="tanh")],
        created=dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        notes={"acc": 0.9},
    )
    lit = engine.to_literal(value, Model, ctx)
    assert lit.scalar.HasField("generic")
    assert engine.to_python(lit, Model, ctx) == value
    meta = json_format.MessageToDict(engine.literal_type(Model).metadata)
    assert meta["json_schema"]["required"] == ["name", "layers", "created"]


def test_model_field_error_has_path(engine: TypeEngine, ctx: TransferContext) -> None:
    bad = Model.model_construct(name="m", layers=[Layer(width=1), "oops"], created=None)
    with pytest.raises(TypeTransformerError, match=r"for input 'm.layers\[1\]'"):
        engine.literal_map({"m": bad}, {"m": Model}, ctx)


def test_model_with_file(engine: TypeEngine, ctx: TransferContext, tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(b"\x01\x02")
    lit = engine.to_literal(WithFile(weights=File(path)), WithFile, ctx)
    back = engine.to_python(lit, WithFile, ctx)
    assert isinstance(back, WithFile)
    assert back.weights.read_bytes() == b"\x01\x02"
    assert lit.hash
