"""Type rules: which LiteralType may feed which, and how to name a type for an author.

``is_castable(source, target)`` follows Flyte's compiler type checker:

- a union target accepts a source castable to any of its variants (so NONE fits Optional[T]);
  a union source needs every one of its variants castable to the target;
- ANY accepts everything; STRUCT accepts STRUCT (schemas are not compared);
- collections and maps are covariant in their element type;
- blobs match when their dimensionality matches and either format is empty or both are equal;
- data frames match on format the same way; columns match when either side declares none,
  otherwise every target column must exist in the source with a castable type;
- an enum source fits an enum target whose values include all of its values, and fits ``str``;
- when both sides carry a ``structure.tag`` (union disambiguation) the tags must be equal.

``metadata`` and ``annotation`` never affect castability.
"""

from __future__ import annotations

from skyloom_core.schema import struct_schema
from skyloom_idl.core import types_pb2

_S = types_pb2.SimpleType
_SIMPLE_NAMES: dict[int, str] = {
    _S.SIMPLE_TYPE_NONE: "None",
    _S.SIMPLE_TYPE_INTEGER: "int",
    _S.SIMPLE_TYPE_FLOAT: "float",
    _S.SIMPLE_TYPE_STRING: "str",
    _S.SIMPLE_TYPE_BOOLEAN: "bool",
    _S.SIMPLE_TYPE_DATETIME: "datetime",
    _S.SIMPLE_TYPE_DURATION: "timedelta",
    _S.SIMPLE_TYPE_BINARY: "bytes",
    _S.SIMPLE_TYPE_STRUCT: "struct",
    _S.SIMPLE_TYPE_ANY: "Any",
}


def is_none(t: types_pb2.LiteralType) -> bool:
    """Whether ``t`` is the NONE type."""
    return t.WhichOneof("type") == "simple" and t.simple == _S.SIMPLE_TYPE_NONE


def is_any(t: types_pb2.LiteralType) -> bool:
    """Whether ``t`` is ANY (accepts every value)."""
    return t.WhichOneof("type") == "simple" and t.simple == _S.SIMPLE_TYPE_ANY


def is_optional(t: types_pb2.LiteralType) -> bool:
    """Whether None is an acceptable value of ``t`` (NONE, ANY, or a union with NONE)."""
    return is_castable(types_pb2.LiteralType(simple=_S.SIMPLE_TYPE_NONE), t)


def is_castable(source: types_pb2.LiteralType, target: types_pb2.LiteralType) -> bool:
    """Whether a value of type ``source`` may be bound where ``target`` is expected."""
    s_kind, t_kind = source.WhichOneof("type"), target.WhichOneof("type")
    if t_kind is None or s_kind is None:
        return False
    if is_any(target):
        return True
    if (
        source.structure.tag
        and target.structure.tag
        and source.structure.tag != target.structure.tag
    ):
        return False
    if s_kind == "union_type":
        variants = source.union_type.variants
        return bool(variants) and all(is_castable(v, target) for v in variants)
    if t_kind == "union_type":
        return any(is_castable(source, v) for v in target.union_type.variants)
    if t_kind == "simple":
        if s_kind == "enum_type":
            return target.simple == _S.SIMPLE_TYPE_STRING
        return s_kind == "simple" and source.simple == target.simple
    if s_kind != t_kind:
        return False
    if t_kind == "collection_type":
        return is_castable(source.collection_type, target.collection_type)
    if t_kind == "map_value_type":
        return is_castable(source.map_value_type, target.map_value_type)
    if t_kind == "blob":
        return _blob_castable(source.blob, target.blob)
    if t_kind == "enum_type":
        return set(source.enum_type.values) <= set(target.enum_type.values)
    return _dataset_castable(source.structured_dataset_type, target.structured_dataset_type)


def _formats_match(source: str, target: str) -> bool:
    return not source or not target or source.lower() == target.lower()


def _blob_castable(source: types_pb2.BlobType, target: types_pb2.BlobType) -> bool:
    unspecified = types_pb2.BlobType.DIMENSIONALITY_UNSPECIFIED
    dims_ok = source.dimensionality == target.dimensionality or unspecified in (
        source.dimensionality,
        target.dimensionality,
    )
    return dims_ok and _formats_match(source.format, target.format)


def _dataset_castable(
    source: types_pb2.StructuredDatasetType, target: types_pb2.StructuredDatasetType
) -> bool:
    if not _formats_match(source.format, target.format):
        return False
    if not source.columns or not target.columns:
        return True
    available = {c.name: c.literal_type for c in source.columns}
    for column in target.columns:
        have = available.get(column.name)
        if have is None or not is_castable(have, column.literal_type):
            return False
    return True


def type_name(t: types_pb2.LiteralType) -> str:
    """A Python-like, readable name: ``list[str]``, ``Optional[int]``, ``File[csv]``..."""
    kind = t.WhichOneof("type")
    if kind == "simple":
        if t.simple == _S.SIMPLE_TYPE_STRUCT:
            schema = struct_schema(t)
            title = schema.get("title") if schema is not None else None
            return title if isinstance(title, str) and title else "struct"
        return _SIMPLE_NAMES.get(t.simple, "<unspecified>")
    if kind == "collection_type":
        return f"list[{type_name(t.collection_type)}]"
    if kind == "map_value_type":
        return f"dict[str, {type_name(t.map_value_type)}]"
    if kind == "blob":
        multipart = t.blob.dimensionality == types_pb2.BlobType.DIMENSIONALITY_MULTIPART
        base = "Directory" if multipart else "File"
        return f"{base}[{t.blob.format}]" if t.blob.format else base
    if kind == "structured_dataset_type":
        fmt = t.structured_dataset_type.format
        return f"DataFrame[{fmt}]" if fmt else "DataFrame"
    if kind == "enum_type":
        return "Enum[" + ", ".join(repr(v) for v in t.enum_type.values) + "]"
    if kind == "union_type":
        variants = list(t.union_type.variants)
        others = [v for v in variants if not is_none(v)]
        if len(others) == 1 and len(variants) == 2:
            return f"Optional[{type_name(others[0])}]"
        return "Union[" + ", ".join(type_name(v) for v in variants) + "]"
    return "<unspecified>"
