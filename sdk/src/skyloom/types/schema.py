"""JSON Schemas for STRUCT literal types, describing the encoding in :mod:`skyloom.types.jsonlit`.

The schema is stored in ``LiteralType.metadata["json_schema"]`` of dataclasses and pydantic
models so that other tools (a console, a remote client) can show and validate values.
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
        if lt.simple == _S.SIMPLE_TYPE_STRUCT:
            nested = metadata_dict(lt).get("json_schema")
            return nested if isinstance(nested, dict) else {"type": "object"}
        return dict(_SIMPLE.get(lt.simple, {}))
    if kind == "collection_type":
        return {"type": "array", "items": json_schema(lt.collection_type)}
    if kind == "map_value_type":
        return {"type": "object", "additionalProperties": json_schema(lt.map_value_type)}
    if kind == "enum_type":
        return {"type": "string", "enum": list(lt.enum_type.values)}
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
            return {"anyOf": [json_schema(non_none[0]), {"type": "null"}]}
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
