# ruff: noqa: UP007, UP045 - typing.Optional/Union are tested on purpose
"""The literal types the engine produces: the contract other components type-check against."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Annotated, Optional, Union

import pytest
from google.protobuf import json_format

from skyloom.files import Directory, File
from skyloom.types import TransferContext, TypeEngine
from skyloom.types.hints import TypeHint
from skyloom_idl.core import types_pb2


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclasses.dataclass
class Cfg:
    lr: float
    tags: list[str]
    mode: Mode = Mode.FAST


GOLDEN: list[tuple[TypeHint, dict[str, object]]] = [
    (int, {"simple": "SIMPLE_TYPE_INTEGER"}),
    (float, {"simple": "SIMPLE_TYPE_FLOAT"}),
    (bool, {"simple": "SIMPLE_TYPE_BOOLEAN"}),
    (str, {"simple": "SIMPLE_TYPE_STRING"}),
    (bytes, {"simple": "SIMPLE_TYPE_BINARY"}),
    (dt.datetime, {"simple": "SIMPLE_TYPE_DATETIME"}),
    (dt.timedelta, {"simple": "SIMPLE_TYPE_DURATION"}),
    (list[int], {"collectionType": {"simple": "SIMPLE_TYPE_INTEGER"}}),
    (dict[str, list[float]], {"mapValueType": {"collectionType": {"simple": "SIMPLE_TYPE_FLOAT"}}}),
    (
        Optional[int],
        {
            "unionType": {
                "variants": [
                    {"simple": "SIMPLE_TYPE_INTEGER", "structure": {"tag": "int"}},
                    {"simple": "SIMPLE_TYPE_NONE", "structure": {"tag": "none"}},
                ]
            }
        },
    ),
    (
        Union[list[int], str],
        {
            "unionType": {
                "variants": [
                    {
                        "collectionType": {"simple": "SIMPLE_TYPE_INTEGER"},
                        "structure": {"tag": "list[int]"},
                    },
                    {"simple": "SIMPLE_TYPE_STRING", "structure": {"tag": "str"}},
                ]
            }
        },
    ),
    (File, {"blob": {"dimensionality": "DIMENSIONALITY_SINGLE"}}),
    (
        File["csv"],  # type: ignore[misc]
        {"blob": {"format": "csv", "dimensionality": "DIMENSIONALITY_SINGLE"}},
    ),
    (Directory, {"blob": {"dimensionality": "DIMENSIONALITY_MULTIPART"}}),
    (Annotated[int, "a note"], {"simple": "SIMPLE_TYPE_INTEGER"}),
]


@pytest.mark.parametrize(("hint", "expected"), GOLDEN, ids=lambda v: repr(v)[:40])
def test_golden_literal_types(
    engine: TypeEngine, hint: TypeHint, expected: dict[str, object]
) -> None:
    assert json_format.MessageToDict(engine.literal_type(hint)) == expected


def test_enum_literal_type(engine: TypeEngine) -> None:
    lt = engine.literal_type(Mode)
    assert list(lt.enum_type.values) == ["fast", "slow"]
    assert lt.metadata["python_class"] == f"{__name__}.Mode"


def test_dataclass_literal_type_has_json_schema(engine: TypeEngine) -> None:
    lt = engine.literal_type(Cfg)
    assert lt.simple == types_pb2.SIMPLE_TYPE_STRUCT
    meta = json_format.MessageToDict(lt.metadata)
    assert meta["python_class"] == f"{__name__}.Cfg"
    assert meta["json_schema"] == {
        "title": "Cfg",
        "x-python-class": f"{__name__}.Cfg",
        "type": "object",
        "properties": {
            "lr": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "mode": {
                "type": "string",
                "enum": ["fast", "slow"],
                "x-python-class": f"{__name__}.Mode",
            },
        },
        "required": ["lr", "tags"],
    }


def test_format_parameterization_is_cached_and_a_subclass() -> None:
    csv: type[File] = File["csv"]  # type: ignore[misc]
    assert csv is File["csv"]  # type: ignore[misc]
    assert csv is File.with_format("csv")
    assert issubclass(csv, File)
    assert csv.format == "csv"
    assert File.format == ""
    parquet_dir: type = Directory.with_format("parquet")
    assert parquet_dir is not File.with_format("parquet")


def test_guess_python_type_inverts_literal_types(engine: TypeEngine) -> None:
    for hint in (int, float, str, bool, bytes, dt.datetime, list[int], dict[str, list[str]]):
        assert engine.guess_python_type(engine.literal_type(hint)) == hint
    assert engine.guess_python_type(engine.literal_type(Optional[int])) == Optional[int]
    csv = File.with_format("csv")
    assert engine.guess_python_type(engine.literal_type(csv)) is csv
    guessed = engine.guess_python_type(engine.literal_type(Mode))
    assert [m.value for m in guessed] == ["fast", "slow"]  # type: ignore[attr-defined]


@dataclasses.dataclass
class Remote:
    cfg: Cfg
    when: dt.datetime
    files: list[File]
    by_name: dict[str, int]
    blob: bytes = b""
    maybe: Optional[int] = None


def test_guess_dataclass_uses_imported_class(engine: TypeEngine) -> None:
    assert engine.guess_python_type(engine.literal_type(Remote)) is Remote


def test_guess_dataclass_rebuilds_unknown_class(engine: TypeEngine, ctx: TransferContext) -> None:
    lt = engine.literal_type(Remote)
    lt.metadata["python_class"] = "not_imported_module.Remote"
    guessed = engine.guess_python_type(lt)
    assert dataclasses.is_dataclass(guessed)
    assert isinstance(guessed, type)
    # the rebuilt class reads literals written by the real one
    value = Remote(Cfg(0.5, ["a"], Mode.SLOW), dt.datetime(2024, 1, 1, tzinfo=dt.UTC), [], {"k": 1})
    back = engine.to_python(engine.to_literal(value, Remote, ctx), guessed, ctx)
    assert back.cfg.lr == 0.5  # type: ignore[attr-defined]
    assert back.cfg.mode.value == "slow"  # type: ignore[attr-defined]
    assert back.when == value.when  # type: ignore[attr-defined]
    assert back.by_name == {"k": 1}  # type: ignore[attr-defined]
    assert back.maybe is None  # type: ignore[attr-defined]


def test_format_variants_per_class() -> None:
    csv = File.with_format("csv")
    with pytest.raises(TypeError, match="already has a format"):
        csv.with_format("tsv")

    class Fastq(File):
        format = "fastq"

    gz = Fastq.with_format("fastq.gz")
    assert issubclass(gz, Fastq)
    assert File.with_format("fastq.gz") is not gz
