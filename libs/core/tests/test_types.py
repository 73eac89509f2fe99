"""Type rules, table-driven: castability and readable names."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2

from skyloom_core import build as t
from skyloom_core.types import is_castable, is_optional, type_name
from skyloom_idl.core import types_pb2

CSV = t.blob_type("csv")
ANY_FILE = t.blob_type("")
DIR = t.blob_type("csv", multipart=True)
PQ_AB = t.dataframe_type("parquet", {"a": t.INT, "b": t.STR})
PQ_A = t.dataframe_type("parquet", {"a": t.INT})
PQ_A_FLOAT = t.dataframe_type("parquet", {"a": t.FLOAT})
PQ = t.dataframe_type("parquet")
CSV_DF = t.dataframe_type("csv")
DF = t.dataframe_type()


def tagged(lt: types_pb2.LiteralType, tag: str) -> types_pb2.LiteralType:
    out = types_pb2.LiteralType()
    out.CopyFrom(lt)
    out.structure.tag = tag
    return out


CASTS = [
    # (source, target, castable)
    (t.INT, t.INT, True),
    (t.INT, t.FLOAT, False),
    (t.STR, t.INT, False),
    (t.NONE, t.optional_type(t.INT), True),
    (t.INT, t.optional_type(t.INT), True),
    (t.STR, t.optional_type(t.INT), False),
    (t.optional_type(t.INT), t.INT, False),
    (t.optional_type(t.INT), t.optional_type(t.INT), True),
    (t.union_type(t.INT, t.STR), t.union_type(t.STR, t.INT, t.NONE), True),
    (t.union_type(t.INT, t.STR), t.union_type(t.INT, t.NONE), False),
    (t.list_type(t.INT), t.list_type(t.INT), True),
    (t.list_type(t.INT), t.list_type(t.STR), False),
    (t.list_type(t.INT), t.list_type(t.optional_type(t.INT)), True),
    (t.dict_type(t.INT), t.dict_type(t.INT), True),
    (t.dict_type(t.INT), t.list_type(t.INT), False),
    (t.INT, t.ANY, True),
    (t.list_type(t.STR), t.ANY, True),
    (t.ANY, t.INT, False),
    (t.STRUCT, t.STRUCT, True),
    (t.STRUCT, t.STR, False),
    (CSV, CSV, True),
    (CSV, ANY_FILE, True),
    (ANY_FILE, CSV, True),
    (t.blob_type("tsv"), CSV, False),
    (CSV, DIR, False),
    (PQ_AB, PQ_A, True),
    (PQ_A, PQ_AB, False),
    (PQ_A_FLOAT, PQ_A, False),
    (PQ, PQ_AB, True),
    (PQ_AB, PQ, True),
    (PQ_AB, DF, True),
    (CSV_DF, PQ, False),
    (t.enum_type(["a", "b"]), t.enum_type(["a", "b", "c"]), True),
    (t.enum_type(["a", "z"]), t.enum_type(["a", "b"]), False),
    (t.enum_type(["a"]), t.STR, True),
    (t.STR, t.enum_type(["a"]), False),
    (tagged(t.INT, "x"), tagged(t.INT, "y"), False),
    (tagged(t.INT, "x"), t.INT, True),
    (types_pb2.LiteralType(), t.INT, False),
]


@pytest.mark.parametrize(("source", "target", "expected"), CASTS)
def test_is_castable(
    source: types_pb2.LiteralType, target: types_pb2.LiteralType, expected: bool
) -> None:
    assert is_castable(source, target) is expected


def test_metadata_and_annotation_do_not_affect_castability() -> None:
    annotated = types_pb2.LiteralType()
    annotated.CopyFrom(t.INT)
    annotated.annotation = "a count"
    annotated.metadata.update({"anything": 1})
    assert is_castable(annotated, t.INT)
    assert is_castable(t.INT, annotated)


def test_is_optional() -> None:
    assert is_optional(t.optional_type(t.STR))
    assert not is_optional(t.STR)


def _schema_type(title: str) -> types_pb2.LiteralType:
    schema = struct_pb2.Struct()
    schema.update({"title": title, "type": "object", "properties": {"lr": {"type": "number"}}})
    return types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_STRUCT, metadata=schema)


NAMES = [
    (t.INT, "int"),
    (t.FLOAT, "float"),
    (t.STR, "str"),
    (t.BOOL, "bool"),
    (t.NONE, "None"),
    (t.DATETIME, "datetime"),
    (t.DURATION, "timedelta"),
    (t.BINARY, "bytes"),
    (t.ANY, "Any"),
    (t.STRUCT, "struct"),
    (_schema_type("Config"), "Config"),
    (t.list_type(t.STR), "list[str]"),
    (t.dict_type(t.FLOAT), "dict[str, float]"),
    (t.list_type(t.dict_type(t.list_type(t.INT))), "list[dict[str, list[int]]]"),
    (t.optional_type(t.INT), "Optional[int]"),
    (t.union_type(t.INT, t.STR), "Union[int, str]"),
    (t.union_type(t.INT, t.STR, t.NONE), "Union[int, str, None]"),
    (CSV, "File[csv]"),
    (ANY_FILE, "File"),
    (DIR, "Directory[csv]"),
    (PQ_AB, "DataFrame[parquet]"),
    (DF, "DataFrame"),
    (t.enum_type(["red", "green"]), "Enum['red', 'green']"),
    (types_pb2.LiteralType(), "<unspecified>"),
]


@pytest.mark.parametrize(("lt", "name"), NAMES)
def test_type_name(lt: types_pb2.LiteralType, name: str) -> None:
    assert type_name(lt) == name
