"""Literals ↔ JSON values, guided by literal types: the field encoding inside STRUCT literals.

Dataclasses and pydantic models are stored as a ``google.protobuf.Struct`` whose fields are the
JSON form of each field's literal. Encodings (chosen so every value round-trips exactly):

===================  ==========================================================================
integer              JSON number; beyond ±2**53 (where a Struct's double loses digits) a string
float                JSON number; ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` for non-finite values
datetime / duration  protobuf JSON strings (``"2024-05-01T12:00:00.000001Z"``, ``"1.5s"``)
bytes                base64 string; a tagged binary is ``{"tag": t, "base64": b}``
enum                 its value string
file / directory     ``{"uri": u, "format": f, "multipart": bool, "hash": h}``
data frame           ``{"uri": u, "format": f, "hash": h}``
optional             the value, or ``null``
other unions         ``{"tag": variant tag, "value": v}``
===================  ==========================================================================
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import TypeAlias

from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

from skyloom.types.errors import TypeTransformerError, short_repr
from skyloom.types.protos import scalar
from skyloom_idl.core import literals_pb2, types_pb2

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None

_EXACT = 2**53
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ST = types_pb2


def _single_variant(lt: types_pb2.LiteralType) -> types_pb2.LiteralType | None:
    """The non-None variant of an Optional-shaped union, else None."""
    variants = [
        v
        for v in lt.union_type.variants
        if v.simple != _ST.SIMPLE_TYPE_NONE or v.WhichOneof("type") != "simple"
    ]
    none = len(lt.union_type.variants) - len(variants)
    return variants[0] if len(variants) == 1 and none == 1 else None


def struct_to_dict(st: struct_pb2.Struct) -> dict[str, JSON]:
    """A ``Struct`` as plain JSON values (without importing ``json_format``, which is slow)."""
    return {k: _value_to_json(v) for k, v in st.fields.items()}


def _value_to_json(v: struct_pb2.Value) -> JSON:
    kind = v.WhichOneof("kind")
    if kind == "struct_value":
        return struct_to_dict(v.struct_value)
    if kind == "list_value":
        return [_value_to_json(x) for x in v.list_value.values]
    if kind == "number_value":
        return v.number_value
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    return None


def _scalar_to_json(sc: literals_pb2.Scalar, lit_hash: str, lt: types_pb2.LiteralType) -> JSON:
    kind = sc.WhichOneof("value")
    if kind == "primitive":
        return _primitive_to_json(sc.primitive)
    if kind == "binary":
        encoded = base64.b64encode(sc.binary.value).decode()
        return {"tag": sc.binary.tag, "base64": encoded} if sc.binary.tag else encoded
    if kind == "enum_value":
        return sc.enum_value
    if kind == "none_type":
        return None
    if kind == "blob":
        multipart = sc.blob.metadata.type.dimensionality == _ST.BlobType.DIMENSIONALITY_MULTIPART
        return {
            "uri": sc.blob.uri,
            "format": sc.blob.metadata.type.format,
            "multipart": multipart,
            "hash": lit_hash,
        }
    if kind == "structured_dataset":
        sd_type = sc.structured_dataset.metadata.structured_dataset_type
        return {"uri": sc.structured_dataset.uri, "format": sd_type.format, "hash": lit_hash}
    if kind == "generic":
        return struct_to_dict(sc.generic)
    if kind == "union":
        inner = literal_to_json(sc.union.value, sc.union.type)
        if _single_variant(lt) is not None:
            return inner
        return {"tag": sc.union.type.structure.tag, "value": inner}
    raise TypeTransformerError("a value that fits in a struct field", f"a {kind} literal")


def _primitive_to_json(p: literals_pb2.Primitive) -> JSON:
    kind = p.WhichOneof("value")
    if kind == "integer":
        return p.integer if abs(p.integer) <= _EXACT else str(p.integer)
    if kind == "float_value":
        if math.isfinite(p.float_value):
            return p.float_value
        return (
            "NaN"
            if math.isnan(p.float_value)
            else ("Infinity" if p.float_value > 0 else "-Infinity")
        )
    if kind == "string_value":
        return p.string_value
    if kind == "boolean":
        return p.boolean
    if kind == "datetime":
        return p.datetime.ToJsonString()
    if kind == "duration":
        return p.duration.ToJsonString()
    raise TypeTransformerError("a primitive", "an empty primitive")


def literal_to_json(lit: literals_pb2.Literal, lt: types_pb2.LiteralType) -> JSON:
    """The JSON form of ``lit`` (declared as ``lt``), per the table in the module docstring."""
    kind = lit.WhichOneof("value")
    if kind == "collection":
        return [literal_to_json(x, lt.collection_type) for x in lit.collection.literals]
    if kind == "map":
        return {k: literal_to_json(v, lt.map_value_type) for k, v in lit.map.literals.items()}
    return _scalar_to_json(lit.scalar, lit.hash, lt)


def _bad(expected: str, value: JSON) -> TypeTransformerError:
    return TypeTransformerError(expected, f"JSON {short_repr(value)}")


def _simple_from_json(value: JSON, lt: types_pb2.LiteralType) -> literals_pb2.Literal:
    s = lt.simple
    if s == _ST.SIMPLE_TYPE_INTEGER:
        if isinstance(value, bool):
            raise _bad("int", value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, int):
            return scalar(primitive=literals_pb2.Primitive(integer=value))
        raise _bad("int", value)
    if s == _ST.SIMPLE_TYPE_FLOAT:
        if isinstance(value, str) and value in _NONFINITE:
            return scalar(primitive=literals_pb2.Primitive(float_value=_NONFINITE[value]))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return scalar(primitive=literals_pb2.Primitive(float_value=float(value)))
        raise _bad("float", value)
    if s == _ST.SIMPLE_TYPE_STRING and isinstance(value, str):
        return scalar(primitive=literals_pb2.Primitive(string_value=value))
    if s == _ST.SIMPLE_TYPE_BOOLEAN and isinstance(value, bool):
        return scalar(primitive=literals_pb2.Primitive(boolean=value))
    if s == _ST.SIMPLE_TYPE_DATETIME and isinstance(value, str):
        ts = timestamp_pb2.Timestamp()
        ts.FromJsonString(value)
        return scalar(primitive=literals_pb2.Primitive(datetime=ts))
    if s == _ST.SIMPLE_TYPE_DURATION and isinstance(value, str):
        dur = duration_pb2.Duration()
        dur.FromJsonString(value)
        return scalar(primitive=literals_pb2.Primitive(duration=dur))
    if s in (_ST.SIMPLE_TYPE_BINARY, _ST.SIMPLE_TYPE_ANY):
        if isinstance(value, str):
            return scalar(binary=literals_pb2.Binary(value=base64.b64decode(value)))
        if isinstance(value, dict) and isinstance(value.get("base64"), str):
            data = base64.b64decode(str(value["base64"]))
            return scalar(binary=literals_pb2.Binary(value=data, tag=str(value.get("tag", ""))))
    if s == _ST.SIMPLE_TYPE_STRUCT and isinstance(value, dict):
        st = struct_pb2.Struct()
        st.update(_exact_numbers(value))
        return scalar(generic=st)
    if s == _ST.SIMPLE_TYPE_NONE and value is None:
        return scalar(none_type=literals_pb2.Void())
    raise _bad(_ST.SimpleType.Name(s).removeprefix("SIMPLE_TYPE_").lower(), value)


def _exact_numbers(value: dict[str, JSON]) -> dict[str, JSON]:
    """Integers a Struct's doubles cannot hold exactly become strings (read back as ints)."""

    def fix(v: JSON) -> JSON:
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > _EXACT:
            return str(v)
        return v

    return {k: fix(v) for k, v in value.items()}


def json_to_literal(value: JSON, lt: types_pb2.LiteralType) -> literals_pb2.Literal:
    """The literal of type ``lt`` whose JSON form is ``value`` (inverse of literal_to_json)."""
    kind = lt.WhichOneof("type")
    if kind == "simple":
        try:
            return _simple_from_json(value, lt)
        except ValueError as exc:  # malformed timestamp/duration/base64 text
            raise _bad(_ST.SimpleType.Name(lt.simple).lower(), value) from exc
    if kind == "collection_type" and isinstance(value, list):
        coll = literals_pb2.LiteralCollection(
            literals=[json_to_literal(v, lt.collection_type) for v in value]
        )
        return literals_pb2.Literal(collection=coll)
    if kind == "map_value_type" and isinstance(value, dict):
        lm = literals_pb2.LiteralMap()
        for k, v in value.items():
            lm.literals[k].CopyFrom(json_to_literal(v, lt.map_value_type))
        return literals_pb2.Literal(map=lm)
    if kind == "enum_type" and isinstance(value, str):
        return scalar(enum_value=value)
    if kind == "blob" and isinstance(value, dict) and isinstance(value.get("uri"), str):
        dim = (
            _ST.BlobType.DIMENSIONALITY_MULTIPART
            if value.get("multipart")
            else _ST.BlobType.DIMENSIONALITY_SINGLE
        )
        btype = _ST.BlobType(format=str(value.get("format") or ""), dimensionality=dim)
        blob = literals_pb2.Blob(
            uri=str(value["uri"]), metadata=literals_pb2.BlobMetadata(type=btype)
        )
        out = scalar(blob=blob)
        out.hash = str(value.get("hash") or "")
        return out
    if kind == "structured_dataset_type" and isinstance(value, dict):
        sd_type = _ST.StructuredDatasetType()
        sd_type.CopyFrom(lt.structured_dataset_type)
        sd_type.format = str(value.get("format") or sd_type.format)
        sd = literals_pb2.StructuredDataset(
            uri=str(value.get("uri", "")),
            metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=sd_type),
        )
        out = scalar(structured_dataset=sd)
        out.hash = str(value.get("hash") or "")
        return out
    if kind == "union_type":
        return _union_from_json(value, lt)
    raise _bad(str(kind), value)


def _union_from_json(value: JSON, lt: types_pb2.LiteralType) -> literals_pb2.Literal:
    single = _single_variant(lt)
    if single is not None:
        if value is None:
            none_lt = next(
                v
                for v in lt.union_type.variants
                if v.simple == _ST.SIMPLE_TYPE_NONE and v.WhichOneof("type") == "simple"
            )
            return scalar(
                union=literals_pb2.Union(value=scalar(none_type=literals_pb2.Void()), type=none_lt)
            )
        return scalar(union=literals_pb2.Union(value=json_to_literal(value, single), type=single))
    if isinstance(value, dict) and "tag" in value:
        for variant in lt.union_type.variants:
            if variant.structure.tag == value["tag"]:
                inner = json_to_literal(value.get("value"), variant)
                return scalar(union=literals_pb2.Union(value=inner, type=variant))
    raise _bad("a tagged union value", value)


def content_hash(value: JSON) -> str:
    """Hex SHA-256 of canonical JSON where every ``{"uri", "hash"}`` object with a hash counts
    by its hash only, so a struct holding files hashes by the files' content."""
    return hashlib.sha256(
        json.dumps(_content_view(value), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _content_view(value: JSON) -> JSON:
    if isinstance(value, dict):
        if value.get("hash") and "uri" in value:
            return {"hash": value["hash"]}
        return {k: _content_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_content_view(v) for v in value]
    return value


def has_content_hash(value: JSON) -> bool:
    """Whether any nested ``{"uri", "hash"}`` object carries a hash."""
    if isinstance(value, dict):
        if value.get("hash") and "uri" in value:
            return True
        return any(has_content_hash(v) for v in value.values())
    if isinstance(value, list):
        return any(has_content_hash(v) for v in value)
    return False
