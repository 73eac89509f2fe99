"""The SDK's struct types carry their JSON schema where libs/core's checks look for it.

Admin validates execution inputs and the compiler checks attribute paths with libs/core only,
without the author's Python classes, so a dataclass's schema must be readable there.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import struct_pb2

from skyloom.types import new_engine
from skyloom_core.schema import struct_schema
from skyloom_core.validation import validate_literal
from skyloom_idl.core import literals_pb2


@dataclass
class Inner:
    tags: list[str]


@dataclass
class TrainConfig:
    lr: float
    epochs: int
    inner: Inner


def test_core_reads_the_schema_of_an_sdk_dataclass() -> None:
    lt = new_engine().literal_type(TrainConfig)
    schema = struct_schema(lt)
    assert schema is not None
    assert set(schema["properties"]) == {"lr", "epochs", "inner"}  # type: ignore[call-overload]


def test_core_validation_reports_wrong_fields_of_an_sdk_dataclass() -> None:
    lt = new_engine().literal_type(TrainConfig)
    value = struct_pb2.Struct()
    value.update({"lr": "fast", "epochs": 3, "inner": {"tags": ["a", 7]}})
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=value))
    found = sorted(v.field_path for v in validate_literal(lit, lt, "inputs.cfg"))
    assert found == ["inputs.cfg.inner.tags[1]", "inputs.cfg.lr"]
