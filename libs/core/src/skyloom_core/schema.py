"""JSON-schema metadata of STRUCT types (dataclasses, pydantic models).

The rule, shared by value validation and the compiler's attribute paths: a STRUCT LiteralType
whose ``metadata["json_schema"]`` is a JSON schema object (it has ``properties``) describes its
fields. That is where the SDK's type engine puts it, beside other keys such as
``python_class``; a ``metadata`` that is itself such a schema object is read the same way. Nested
objects may use local ``$ref`` pointers into ``$defs`` or ``definitions``. A STRUCT without such a
schema is opaque: any attribute is allowed and its type is unknown (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping

from google.protobuf import json_format, struct_pb2

from skyloom_core import build
from skyloom_idl.core import types_pb2

JsonObject = Mapping[str, object]


def struct_schema(t: types_pb2.LiteralType) -> JsonObject | None:
    """The JSON schema of a STRUCT type, or None when the struct is opaque."""
    if t.WhichOneof("type") != "simple" or t.simple != types_pb2.SimpleType.SIMPLE_TYPE_STRUCT:
        return None
    if not t.HasField("metadata"):
        return None
    metadata = json_format.MessageToDict(t.metadata)
    nested = metadata.get("json_schema")
    schema = nested if isinstance(nested, dict) else metadata
    return schema if isinstance(schema.get("properties"), dict) else None


def resolve_ref(schema: JsonObject, root: JsonObject) -> JsonObject:
    """Follow a local ``$ref`` (``#/$defs/X`` or ``#/definitions/X``); others pass through."""
    seen = 0
    while isinstance(ref := schema.get("$ref"), str) and ref.startswith("#/") and seen < 32:
        node: object = root
        for part in ref[2:].split("/"):
            node = node.get(part) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping):
            return {}
        schema = node
        seen += 1
    return schema


def schema_to_type(schema: JsonObject, root: JsonObject) -> types_pb2.LiteralType | None:
    """The LiteralType a JSON schema describes, or None when it cannot be told."""
    schema = resolve_ref(schema, root)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            variants = [schema_to_type(o, root) for o in options if isinstance(o, Mapping)]
            if any(v is None for v in variants):
                return None
            return build.union_type(*(v for v in variants if v is not None))
    kind = schema.get("type")
    if isinstance(kind, list):
        parts = [schema_to_type({**schema, "type": k}, root) for k in kind]
        if any(p is None for p in parts):
            return None
        return build.union_type(*(p for p in parts if p is not None))
    if kind == "integer":
        return build.INT
    if kind == "number":
        return build.FLOAT
    if kind == "string":
        enum = schema.get("enum")
        if isinstance(enum, list) and all(isinstance(e, str) for e in enum):
            return build.enum_type(str(e) for e in enum)
        return build.STR
    if kind == "boolean":
        return build.BOOL
    if kind == "null":
        return build.NONE
    if kind == "array":
        items = schema.get("items")
        inner = schema_to_type(items, root) if isinstance(items, Mapping) else None
        return build.list_type(inner) if inner is not None else None
    if kind == "object":
        if isinstance(schema.get("properties"), Mapping):
            t = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_STRUCT)
            sub = dict(schema)
            # Nested schemas keep the root's definitions so their $refs still resolve.
            for defs in ("$defs", "definitions"):
                if defs in root and defs not in sub:
                    sub[defs] = root[defs]
            t.metadata.CopyFrom(_to_struct({"json_schema": sub}))
            return t
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            inner = schema_to_type(extra, root)
            return build.dict_type(inner) if inner is not None else None
        return build.STRUCT
    return None


def field_type(t: types_pb2.LiteralType, name: str) -> tuple[bool, types_pb2.LiteralType | None]:
    """Look up attribute ``name`` of a STRUCT type.

    Returns ``(known, type)``: ``known`` is False when the schema exists and has no such field;
    ``type`` is None when the field's type cannot be told (opaque struct or exotic schema).
    """
    schema = struct_schema(t)
    if schema is None:
        return True, None
    props = schema.get("properties")
    assert isinstance(props, Mapping)
    sub = props.get(name)
    if not isinstance(sub, Mapping):
        return False, None
    return True, schema_to_type(sub, schema)


def _to_struct(value: JsonObject) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    json_format.ParseDict(dict(value), s)
    return s
