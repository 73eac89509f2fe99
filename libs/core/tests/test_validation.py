"""Values against types and inputs against interfaces: every violation, with its path."""

from __future__ import annotations

from google.protobuf import struct_pb2

from skyloom_core import build as t
from skyloom_core import build_graph as g
from skyloom_core.errors import ValidationFailed, Violation
from skyloom_core.validation import literal_type_of, validate_inputs, validate_literal
from skyloom_idl.core import interface_pb2, literals_pb2, types_pb2


def paths(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.field_path, v.message) for v in violations]


def test_scalar_match_and_mismatch() -> None:
    assert validate_literal(t.int_literal(3), t.INT, "inputs.x") == []
    assert paths(validate_literal(t.str_literal("3"), t.INT, "inputs.x")) == [
        ("inputs.x", "expected int, got str")
    ]
    assert paths(validate_literal(t.int_literal(3), t.FLOAT, "inputs.x")) == [
        ("inputs.x", "expected float, got int")
    ]


def test_every_bad_element_is_reported_with_its_index() -> None:
    xs = t.list_literal([t.int_literal(1), t.str_literal("a"), t.int_literal(2), t.none_literal()])
    assert paths(validate_literal(xs, t.list_type(t.INT), "inputs.xs")) == [
        ("inputs.xs[1]", "expected int, got str"),
        ("inputs.xs[3]", "expected int, got None"),
    ]


def test_map_keys_in_paths() -> None:
    m = t.map_literal(
        {"ok": t.float_literal(1.0), "bad key": t.int_literal(1), "b": t.str_literal("x")}
    )
    assert paths(validate_literal(m, t.dict_type(t.FLOAT), "inputs.m")) == [
        ("inputs.m.b", "expected float, got str"),
        ('inputs.m["bad key"]', "expected float, got int"),
    ]


def test_optional_and_union() -> None:
    opt = t.optional_type(t.INT)
    assert validate_literal(t.none_literal(), opt, "x") == []
    assert validate_literal(t.int_literal(1), opt, "x") == []
    assert paths(validate_literal(t.str_literal("a"), opt, "x")) == [
        ("x", "expected Optional[int], got str")
    ]
    wrapped = t.scalar_literal(
        literals_pb2.Scalar(union=literals_pb2.Union(value=t.int_literal(1), type=t.INT))
    )
    assert validate_literal(wrapped, opt, "x") == []
    wrong = t.scalar_literal(
        literals_pb2.Scalar(union=literals_pb2.Union(value=t.str_literal("a"), type=t.INT))
    )
    assert paths(validate_literal(wrong, opt, "x")) == [("x", "expected int, got str")]


def test_struct_fields_checked_against_schema() -> None:
    schema = struct_pb2.Struct()
    schema.update(
        {
            "title": "Cfg",
            "type": "object",
            "required": ["lr", "epochs"],
            "additionalProperties": False,
            "properties": {
                "lr": {"type": "number"},
                "epochs": {"type": "integer"},
                "inner": {"$ref": "#/$defs/Inner"},
            },
            "$defs": {
                "Inner": {
                    "type": "object",
                    "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
                }
            },
        }
    )
    cfg_type = types_pb2.LiteralType(
        simple=types_pb2.SimpleType.SIMPLE_TYPE_STRUCT, metadata=schema
    )
    value = struct_pb2.Struct()
    value.update({"lr": "fast", "epochs": 2.5, "extra": 1, "inner": {"tags": ["a", 3]}})
    lit = t.scalar_literal(literals_pb2.Scalar(generic=value))
    assert paths(validate_literal(lit, cfg_type, "inputs.cfg")) == [
        ("inputs.cfg.epochs", "expected integer, got number"),
        ("inputs.cfg.extra", "unknown field"),
        ("inputs.cfg.inner.tags[1]", "expected string, got number"),
        ("inputs.cfg.lr", "expected number, got string"),
    ]
    value.Clear()
    value.update({"lr": 0.1})
    assert paths(
        validate_literal(lit.__class__(scalar=literals_pb2.Scalar(generic=value)), cfg_type, "c")
    ) == [("c.epochs", "required field is missing")]


def test_blob_enum_dataframe() -> None:
    csv = t.blob_literal("s3://b/k.csv", "csv")
    assert validate_literal(csv, t.blob_type("csv"), "f") == []
    assert paths(validate_literal(csv, t.blob_type("tsv"), "f")) == [
        ("f", "expected File[tsv], got File[csv]")
    ]
    color = t.enum_type(["red", "green"])
    red = t.scalar_literal(literals_pb2.Scalar(enum_value="red"))
    blue = t.scalar_literal(literals_pb2.Scalar(enum_value="blue"))
    assert validate_literal(red, color, "c") == []
    assert paths(validate_literal(blue, color, "c")) == [
        ("c", "'blue' is not one of 'red', 'green'")
    ]
    df = literals_pb2.StructuredDataset(
        uri="s3://b/t",
        metadata=literals_pb2.StructuredDatasetMetadata(
            structured_dataset_type=t.dataframe_type("parquet").structured_dataset_type
        ),
    )
    lit = t.scalar_literal(literals_pb2.Scalar(structured_dataset=df))
    assert validate_literal(lit, t.dataframe_type("parquet", {"a": t.INT}), "d") == []
    assert validate_literal(lit, t.dataframe_type("csv"), "d") != []


def test_error_literal_is_never_valid() -> None:
    err = t.scalar_literal(
        literals_pb2.Scalar(error=literals_pb2.Error(failed_node_id="n1", message="boom"))
    )
    assert paths(validate_literal(err, t.INT, "x")) == [("x", "expected int, got an error")]
    assert validate_literal(err, t.ANY, "x") == []


def test_literal_type_of() -> None:
    assert literal_type_of(t.list_literal([t.int_literal(1), t.int_literal(2)])) == t.list_type(
        t.INT
    )
    assert literal_type_of(t.list_literal([t.int_literal(1), t.str_literal("a")])) is None
    assert literal_type_of(t.list_literal([])) is None


def test_validate_inputs_reports_missing_unknown_and_mismatches_together() -> None:
    iface = g.variable_map({"x": t.INT, "xs": t.list_type(t.INT), "name": t.STR})
    inputs = t.literal_map(
        {
            "x": t.str_literal("1"),
            "xs": t.list_literal([t.int_literal(1), t.float_literal(2.0)]),
            "nmae": t.str_literal("a"),
        }
    )
    assert [(v.code, v.field_path) for v in validate_inputs(inputs, iface)] == [
        ("MismatchingTypes", "inputs.x"),
        ("MismatchingTypes", "inputs.xs[1]"),
        ("MissingInput", "inputs.name"),
        ("UnknownInput", "inputs.nmae"),
    ]
    err = ValidationFailed(validate_inputs(inputs, iface))
    assert "4 violation(s)" in str(err)
    assert len(err.violations) == 4


def test_validate_inputs_with_parameter_map_and_fixed_inputs() -> None:
    params = interface_pb2.ParameterMap(
        parameters={
            "a": interface_pb2.Parameter(var=interface_pb2.Variable(type=t.INT), required=True),
            "b": interface_pb2.Parameter(
                var=interface_pb2.Variable(type=t.INT), default=t.int_literal(1)
            ),
            "c": interface_pb2.Parameter(var=interface_pb2.Variable(type=t.STR), required=True),
        }
    )
    fixed = t.literal_map({"c": t.str_literal("pinned")})
    assert validate_inputs(t.literal_map({"a": t.int_literal(1)}), params, fixed_inputs=fixed) == []
    overriding = t.literal_map({"a": t.int_literal(1), "c": t.str_literal("x")})
    assert [
        (v.code, v.field_path) for v in validate_inputs(overriding, params, fixed_inputs=fixed)
    ] == [("FixedInputOverridden", "inputs.c")]
    assert [v.code for v in validate_inputs(t.literal_map({}), params)] == [
        "MissingInput",
        "MissingInput",
    ]
