"""Checking values against types, and input maps against interfaces.

Every function returns *all* violations it finds, each with its field path
(``inputs.xs[3]``, ``inputs.cfg.lr``, ``inputs.m["k"]``), so an author fixes everything in
one round. Nothing here raises; wrap the result in ``ValidationFailed`` to raise.

An ``Error`` scalar is never a valid value of any type but ANY. A STRUCT value is checked against
its type's JSON schema (see ``skyloom_core.schema``) when there is one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping

from google.protobuf import struct_pb2

from skyloom_core.errors import Violation
from skyloom_core.schema import JsonObject, resolve_ref, struct_schema
from skyloom_core.types import is_any, is_castable, type_name
from skyloom_idl.core import interface_pb2, literals_pb2, types_pb2

_S = types_pb2.SimpleType
_PRIMITIVE_OF: dict[int, str] = {
    _S.SIMPLE_TYPE_INTEGER: "integer",
    _S.SIMPLE_TYPE_FLOAT: "float_value",
    _S.SIMPLE_TYPE_STRING: "string_value",
    _S.SIMPLE_TYPE_BOOLEAN: "boolean",
    _S.SIMPLE_TYPE_DATETIME: "datetime",
    _S.SIMPLE_TYPE_DURATION: "duration",
}
_SIMPLE_OF_PRIMITIVE: dict[str, types_pb2.SimpleType.ValueType] = {
    v: types_pb2.SimpleType.ValueType(k) for k, v in _PRIMITIVE_OF.items()
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MISMATCH = "MismatchingTypes"


def key_path(path: str, key: str) -> str:
    """``path.key`` for identifier-like keys, ``path["key"]`` otherwise."""
    return f"{path}.{key}" if _IDENT.match(key) else f"{path}[{json.dumps(key)}]"


def describe_literal(literal: literals_pb2.Literal) -> str:
    """A short description of a value's kind, for messages (``str``, ``list``, ``Error``...)."""
    inferred = literal_type_of(literal)
    if inferred is not None:
        return type_name(inferred)
    kind = literal.WhichOneof("value")
    if kind == "collection":
        return "list"
    if kind == "map":
        return "dict"
    if kind == "scalar":
        return {"error": "an error", "enum_value": "an enum value"}.get(
            str(literal.scalar.WhichOneof("value")), "an empty value"
        )
    return "an empty value"


def literal_type_of(literal: literals_pb2.Literal) -> types_pb2.LiteralType | None:
    """The type a literal evidently has, or None when it cannot be told from the value alone
    (an empty list, an enum value, an error, an unset literal)."""
    kind = literal.WhichOneof("value")
    if kind == "collection":
        items = [literal_type_of(x) for x in literal.collection.literals]
        if not items or items[0] is None or any(i != items[0] for i in items):
            return None
        return types_pb2.LiteralType(collection_type=items[0])
    if kind == "map":
        values = [literal_type_of(x) for x in literal.map.literals.values()]
        if not values or values[0] is None or any(v != values[0] for v in values):
            return None
        return types_pb2.LiteralType(map_value_type=values[0])
    if kind != "scalar":
        return None
    return scalar_type_of(literal.scalar)


def scalar_type_of(scalar: literals_pb2.Scalar) -> types_pb2.LiteralType | None:
    """The type a scalar evidently has (see ``literal_type_of``)."""
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        p_kind = scalar.primitive.WhichOneof("value")
        return types_pb2.LiteralType(simple=_SIMPLE_OF_PRIMITIVE[p_kind]) if p_kind else None
    if kind == "blob":
        return types_pb2.LiteralType(blob=scalar.blob.metadata.type)
    if kind == "structured_dataset":
        return types_pb2.LiteralType(
            structured_dataset_type=scalar.structured_dataset.metadata.structured_dataset_type
        )
    if kind == "union":
        return scalar.union.type
    simple = {
        "binary": _S.SIMPLE_TYPE_BINARY,
        "none_type": _S.SIMPLE_TYPE_NONE,
        "generic": _S.SIMPLE_TYPE_STRUCT,
    }.get(str(kind))
    return types_pb2.LiteralType(simple=simple) if simple is not None else None


def validate_literal(
    literal: literals_pb2.Literal, expected: types_pb2.LiteralType, path: str
) -> list[Violation]:
    """Check ``literal`` against ``expected``; return every violation, each with its path."""
    if is_any(expected):
        return []
    kind = expected.WhichOneof("type")
    if kind == "union_type":
        return _validate_union(literal, expected, path)
    if kind == "collection_type":
        if literal.WhichOneof("value") != "collection":
            return [_mismatch(path, expected, literal)]
        out: list[Violation] = []
        for i, item in enumerate(literal.collection.literals):
            out += validate_literal(item, expected.collection_type, f"{path}[{i}]")
        return out
    if kind == "map_value_type":
        if literal.WhichOneof("value") != "map":
            return [_mismatch(path, expected, literal)]
        out = []
        for key in sorted(literal.map.literals):
            out += validate_literal(
                literal.map.literals[key], expected.map_value_type, key_path(path, key)
            )
        return out
    if literal.WhichOneof("value") != "scalar":
        return [_mismatch(path, expected, literal)]
    return _validate_scalar(literal.scalar, expected, path, literal)


def _mismatch(
    path: str, expected: types_pb2.LiteralType, literal: literals_pb2.Literal
) -> Violation:
    return Violation(
        path, f"expected {type_name(expected)}, got {describe_literal(literal)}", MISMATCH
    )


def _validate_union(
    literal: literals_pb2.Literal, expected: types_pb2.LiteralType, path: str
) -> list[Violation]:
    scalar = literal.scalar
    if literal.WhichOneof("value") == "scalar" and scalar.WhichOneof("value") == "union":
        declared = scalar.union.type
        if not is_castable(declared, expected):
            return [
                Violation(
                    path,
                    f"expected {type_name(expected)}, got a union value of {type_name(declared)}",
                    MISMATCH,
                )
            ]
        return validate_literal(scalar.union.value, declared, path)
    for variant in expected.union_type.variants:
        if not validate_literal(literal, variant, path):
            return []
    return [_mismatch(path, expected, literal)]


def _validate_scalar(
    scalar: literals_pb2.Scalar,
    expected: types_pb2.LiteralType,
    path: str,
    literal: literals_pb2.Literal,
) -> list[Violation]:
    kind = expected.WhichOneof("type")
    got = scalar.WhichOneof("value")
    if got == "union":
        # A union-wrapped value where a plain type is expected: check what it carries.
        if not is_castable(scalar.union.type, expected):
            return [_mismatch(path, expected, literal)]
        return validate_literal(scalar.union.value, expected, path)
    if kind == "simple":
        return _validate_simple(scalar, expected, path, literal)
    if kind == "enum_type":
        value = scalar.enum_value if got == "enum_value" else None
        if got == "primitive" and scalar.primitive.WhichOneof("value") == "string_value":
            value = scalar.primitive.string_value
        if value is None:
            return [_mismatch(path, expected, literal)]
        if value not in expected.enum_type.values:
            allowed = ", ".join(repr(v) for v in expected.enum_type.values)
            return [Violation(path, f"{value!r} is not one of {allowed}", MISMATCH)]
        return []
    if kind == "blob":
        if got != "blob" or not is_castable(
            types_pb2.LiteralType(blob=scalar.blob.metadata.type), expected
        ):
            return [_mismatch(path, expected, literal)]
        return [] if scalar.blob.uri else [Violation(path, "file has no uri", MISMATCH)]
    if kind == "structured_dataset_type":
        if got != "structured_dataset":
            return [_mismatch(path, expected, literal)]
        actual = scalar_type_of(scalar)
        if actual is None or not is_castable(actual, expected):
            return [_mismatch(path, expected, literal)]
        return []
    return [_mismatch(path, expected, literal)]


def _validate_simple(
    scalar: literals_pb2.Scalar,
    expected: types_pb2.LiteralType,
    path: str,
    literal: literals_pb2.Literal,
) -> list[Violation]:
    got = scalar.WhichOneof("value")
    simple = expected.simple
    if simple in _PRIMITIVE_OF:
        if got == "primitive" and scalar.primitive.WhichOneof("value") == _PRIMITIVE_OF[simple]:
            return []
        if simple == _S.SIMPLE_TYPE_STRING and got == "enum_value":
            return []
        return [_mismatch(path, expected, literal)]
    if simple == _S.SIMPLE_TYPE_NONE:
        return [] if got == "none_type" else [_mismatch(path, expected, literal)]
    if simple == _S.SIMPLE_TYPE_BINARY:
        return [] if got == "binary" else [_mismatch(path, expected, literal)]
    if simple == _S.SIMPLE_TYPE_STRUCT:
        if got != "generic":
            return [_mismatch(path, expected, literal)]
        schema = struct_schema(expected)
        return [] if schema is None else _validate_object(scalar.generic, schema, schema, path)
    return [_mismatch(path, expected, literal)]


_JSON_KINDS = {
    "null_value": "null",
    "number_value": "number",
    "string_value": "string",
    "bool_value": "boolean",
    "struct_value": "object",
    "list_value": "array",
}


def _validate_object(
    value: struct_pb2.Struct, schema: JsonObject, root: JsonObject, path: str
) -> list[Violation]:
    out: list[Violation] = []
    props = schema.get("properties")
    props = props if isinstance(props, Mapping) else {}
    required = schema.get("required")
    for name in required if isinstance(required, list) else []:
        if isinstance(name, str) and name not in value.fields:
            out.append(Violation(key_path(path, name), "required field is missing", MISMATCH))
    for name in sorted(value.fields):
        sub = props.get(name)
        if isinstance(sub, Mapping):
            out += _validate_json(value.fields[name], sub, root, key_path(path, name))
        elif schema.get("additionalProperties") is False:
            out.append(Violation(key_path(path, name), "unknown field", MISMATCH))
    return out


def _validate_json(
    value: struct_pb2.Value, schema: JsonObject, root: JsonObject, path: str
) -> list[Violation]:
    schema = resolve_ref(schema, root)
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        for option in options:
            if isinstance(option, Mapping) and not _validate_json(value, option, root, path):
                return []
        return [Violation(path, "value matches none of the allowed types", MISMATCH)]
    kinds = schema.get("type")
    allowed = (
        set(kinds) if isinstance(kinds, list) else {kinds} if isinstance(kinds, str) else set()
    )
    if not allowed:
        return []
    got = _JSON_KINDS[str(value.WhichOneof("kind"))]
    if got == "number":
        number = value.number_value
        is_int = math.isfinite(number) and number == int(number)
        if "number" in allowed or ("integer" in allowed and is_int):
            return []
    if got not in allowed:
        want = " or ".join(sorted(str(k) for k in allowed))
        return [Violation(path, f"expected {want}, got {got}", MISMATCH)]
    if got == "object":
        return _validate_object(value.struct_value, schema, root, path)
    if got == "array" and isinstance(items := schema.get("items"), Mapping):
        out: list[Violation] = []
        for i, item in enumerate(value.list_value.values):
            out += _validate_json(item, items, root, f"{path}[{i}]")
        return out
    return []


def _parameters(
    interface: interface_pb2.VariableMap | interface_pb2.ParameterMap,
) -> Iterable[tuple[str, types_pb2.LiteralType, bool]]:
    """(name, type, required) for each declared input, in a stable order."""
    if isinstance(interface, interface_pb2.VariableMap):
        names = list(interface.order) + sorted(set(interface.variables) - set(interface.order))
        for name in names:
            if name in interface.variables:
                yield name, interface.variables[name].type, True
        return
    for name in sorted(interface.parameters):
        p = interface.parameters[name]
        required = not p.HasField("default") and (p.required or p.WhichOneof("behavior") is None)
        yield name, p.var.type, required


def validate_inputs(
    inputs: literals_pb2.LiteralMap,
    interface: interface_pb2.VariableMap | interface_pb2.ParameterMap,
    *,
    fixed_inputs: literals_pb2.LiteralMap | None = None,
    path: str = "inputs",
) -> list[Violation]:
    """Check an input map against an interface's inputs (a VariableMap, where every input is
    required, or a launch plan's ParameterMap, where inputs with a default are optional).

    Reports at once: inputs that are missing, unknown, or fixed by the launch plan (may not be
    overridden), and every type violation inside the values provided. ``fixed_inputs`` count as
    provided and are type-checked too, under ``fixed_inputs``.
    """
    fixed = fixed_inputs.literals if fixed_inputs is not None else {}
    declared = list(_parameters(interface))
    known = {name for name, _, _ in declared}
    out: list[Violation] = []
    for name, expected, required in declared:
        if name in inputs.literals:
            if name in fixed:
                msg = "is fixed by the launch plan and cannot be overridden"
                out.append(Violation(key_path(path, name), msg, "FixedInputOverridden"))
            out += validate_literal(inputs.literals[name], expected, key_path(path, name))
        elif name in fixed:
            out += validate_literal(fixed[name], expected, key_path("fixed_inputs", name))
        elif required:
            msg = f"required input '{name}' ({type_name(expected)}) is missing"
            out.append(Violation(key_path(path, name), msg, "MissingInput"))
    for name in sorted(set(inputs.literals) - known):
        hint = ", ".join(sorted(known)) or "none"
        msg = f"unknown input '{name}' (declared inputs: {hint})"
        out.append(Violation(key_path(path, name), msg, "UnknownInput"))
    for name in sorted(set(fixed) - known):
        out.append(
            Violation(key_path("fixed_inputs", name), f"unknown input '{name}'", "UnknownInput")
        )
    return out
