"""JSON Schemas for literal types, describing the encoding in :mod:`skyloom.types.jsonlit`.

The schema is stored in ``LiteralType.metadata["json_schema"]`` of dataclasses and pydantic
models so that other tools (a console, a remote client) can show and validate values. It keeps
everything needed to rebuild each field's literal type exactly
(:func:`literal_type_from_schema`), through ``x-`` keywords: ``x-python-class`` (the
``python_class`` metadata), ``x-skyloom-tags`` (Optional variant tags), ``x-skyloom-blob`` and
``x-skyloom-dataset``. That is what lets a resolver pick ``cfg.lr`` out of a record literal
without the Python class (:mod:`skyloom.types.attr_path`).
"""

from __future__ import annotations

from skyloom.types.jsonlit import JSON, struct_to_dict
from skyloom_idl.core import types_pb2

_S = types_pb2
_SIMPLE: dict[int, dict[str, JSON]] = {
    _S.SIMPLE_TYPE_INTEGER: {"type": "integer"},
    _S.SIMPLE_TYPE_FLOAT: {"type": "number"},
    _S.SIMPLE_TYPE_STRING: {"type": "string"},
    _S.SIMPLE_TYPE_BOOLEAN: {"type": "boolean"},
    _S.SIMPLE_TYPE_DATETIME: {"type": "string", "format": "date-time"},
    _S.SIMPLE_TYPE_DURATION: {"type": "string", "format": "duration"},
    _S.SIMPLE_TYPE_BINARY: {"type": "string", "contentEncoding": "base64"},
    _S.SIMPLE_TYPE_NONE: {"type": "null"},
    _S.SIMPLE_TYPE_ANY: {},
}


def metadata_dict(lt: types_pb2.LiteralType) -> dict[str, JSON]:
    """``lt.metadata`` as a plain dict."""
    return struct_to_dict(lt.metadata)


def json_schema(lt: types_pb2.LiteralType) -> dict[str, JSON]:
    """The JSON Schema of the JSON form of literals of type ``lt``."""
    kind = lt.WhichOneof("type")
    if kind == "simple":
        meta = metadata_dict(lt)
        if lt.simple == _S.SIMPLE_TYPE_STRUCT:
            nested = meta.get("json_schema")
            return nested if isinstance(nested, dict) else {"type": "object"}
        out = dict(_SIMPLE.get(lt.simple, {}))
        if isinstance(meta.get("python_class"), str):
            out["x-python-class"] = meta["python_class"]
        return out
    if kind == "collection_type":
        return {"type": "array", "items": json_schema(lt.collection_type)}
    if kind == "map_value_type":
        return {"type": "object", "additionalProperties": json_schema(lt.map_value_type)}
    if kind == "enum_type":
        enum_schema: dict[str, JSON] = {"type": "string", "enum": list(lt.enum_type.values)}
        enum_class = metadata_dict(lt).get("python_class")
        if isinstance(enum_class, str):
            enum_schema["x-python-class"] = enum_class
        return enum_schema
    if kind == "blob":
        multipart = lt.blob.dimensionality == _S.BlobType.DIMENSIONALITY_MULTIPART
        return {
            "type": "object",
            "properties": {
                "uri": {"type": "string"},
                "format": {"type": "string"},
                "multipart": {"type": "boolean"},
                "hash": {"type": "string"},
            },
            "required": ["uri"],
            "x-skyloom-blob": {"format": lt.blob.format, "multipart": multipart},
        }
    if kind == "structured_dataset_type":
        columns: dict[str, JSON] = {
            c.name: json_schema(c.literal_type) for c in lt.structured_dataset_type.columns
        }
        return {
            "type": "object",
            "properties": {
                "uri": {"type": "string"},
                "format": {"type": "string"},
                "hash": {"type": "string"},
            },
            "required": ["uri"],
            "x-skyloom-dataset": {"format": lt.structured_dataset_type.format, "columns": columns},
        }
    if kind == "union_type":
        variants = list(lt.union_type.variants)
        non_none = [v for v in variants if not _is_none(v)]
        if len(non_none) == 1 and len(variants) == 2:
            none = next(v for v in variants if _is_none(v))
            return {
                "anyOf": [json_schema(non_none[0]), {"type": "null"}],
                "x-skyloom-tags": [non_none[0].structure.tag, none.structure.tag],
            }
        return {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["tag", "value"],
                    "properties": {"tag": {"const": v.structure.tag}, "value": json_schema(v)},
                }
                for v in variants
            ]
        }
    return {}


def _is_none(lt: types_pb2.LiteralType) -> bool:
    return lt.WhichOneof("type") == "simple" and lt.simple == _S.SIMPLE_TYPE_NONE


_BY_TYPE: dict[str, int] = {
    "integer": _S.SIMPLE_TYPE_INTEGER,
    "number": _S.SIMPLE_TYPE_FLOAT,
    "boolean": _S.SIMPLE_TYPE_BOOLEAN,
    "null": _S.SIMPLE_TYPE_NONE,
}


def _with_class(lt: types_pb2.LiteralType, schema: dict[str, JSON]) -> types_pb2.LiteralType:
    cls = schema.get("x-python-class")
    if isinstance(cls, str):
        lt.metadata.update({"python_class": cls})
    return lt


def _dict(value: JSON) -> dict[str, JSON]:
    return value if isinstance(value, dict) else {}


def literal_type_from_schema(schema: dict[str, JSON]) -> types_pb2.LiteralType:
    """The literal type whose :func:`json_schema` is ``schema`` (exact for schemas it wrote)."""
    blob = schema.get("x-skyloom-blob")
    if isinstance(blob, dict):
        dim = (
            _S.BlobType.DIMENSIONALITY_MULTIPART
            if blob.get("multipart")
            else _S.BlobType.DIMENSIONALITY_SINGLE
        )
        return _S.LiteralType(
            blob=_S.BlobType(format=str(blob.get("format") or ""), dimensionality=dim)
        )
    dataset = schema.get("x-skyloom-dataset")
    if isinstance(dataset, dict):
        cols = [
            _S.StructuredDatasetType.DatasetColumn(
                name=k, literal_type=literal_type_from_schema(_dict(v))
            )
            for k, v in _dict(dataset.get("columns")).items()
        ]
        return _S.LiteralType(
            structured_dataset_type=_S.StructuredDatasetType(
                columns=cols, format=str(dataset.get("format") or "")
            )
        )
    options = schema.get("anyOf")
    if isinstance(options, list):
        return _S.LiteralType(union_type=_S.UnionType(variants=_variants(schema, options)))
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _BY_TYPE:
        return _with_class(_S.LiteralType(simple=_BY_TYPE[kind]), schema)  # type: ignore[arg-type]
    if kind == "string":
        return _string_type(schema)
    if kind == "array":
        return _S.LiteralType(collection_type=literal_type_from_schema(_dict(schema.get("items"))))
    if kind == "object":
        if "properties" in schema:
            lt = _S.LiteralType(simple=_S.SIMPLE_TYPE_STRUCT)
            lt.metadata.update({"json_schema": schema})
            return _with_class(lt, schema)
        if isinstance(schema.get("additionalProperties"), dict):
            return _S.LiteralType(
                map_value_type=literal_type_from_schema(_dict(schema["additionalProperties"]))
            )
        return _S.LiteralType(simple=_S.SIMPLE_TYPE_STRUCT)
    return _with_class(_S.LiteralType(simple=_S.SIMPLE_TYPE_ANY), schema)


def _string_type(schema: dict[str, JSON]) -> types_pb2.LiteralType:
    values = schema.get("enum")
    if isinstance(values, list):
        lt = _S.LiteralType(enum_type=_S.EnumType(values=[str(v) for v in values]))
        return _with_class(lt, schema)
    fmt = schema.get("format")
    simple = (
        _S.SIMPLE_TYPE_DATETIME
        if fmt == "date-time"
        else _S.SIMPLE_TYPE_DURATION
        if fmt == "duration"
        else _S.SIMPLE_TYPE_BINARY
        if schema.get("contentEncoding") == "base64"
        else _S.SIMPLE_TYPE_STRING
    )
    return _with_class(_S.LiteralType(simple=simple), schema)


def _variants(schema: dict[str, JSON], options: list[JSON]) -> list[types_pb2.LiteralType]:
    tags = schema.get("x-skyloom-tags")
    if isinstance(tags, list) and len(tags) == 2 and len(options) == 2:
        out = [literal_type_from_schema(_dict(o)) for o in options]
        for variant, tag in zip(out, tags, strict=True):
            variant.structure.tag = str(tag)
        return out
    variants = []
    for option in options:
        props = _dict(_dict(option).get("properties"))
        variant = literal_type_from_schema(_dict(props.get("value")))
        variant.structure.tag = str(_dict(props.get("tag")).get("const", ""))
        variants.append(variant)
    return variants
