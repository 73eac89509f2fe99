"""Small constructors for LiteralTypes and Literals.

Protobuf constructors are verbose; these keep tests, the SDK and services readable
(``list_type(INT)`` instead of four nested messages). They build plain messages, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from skyloom_idl.core import literals_pb2, types_pb2

_S = types_pb2.SimpleType


def simple_type(simple: types_pb2.SimpleType.ValueType) -> types_pb2.LiteralType:
    """A LiteralType of one SimpleType."""
    return types_pb2.LiteralType(simple=simple)


NONE = simple_type(_S.SIMPLE_TYPE_NONE)
INT = simple_type(_S.SIMPLE_TYPE_INTEGER)
FLOAT = simple_type(_S.SIMPLE_TYPE_FLOAT)
STR = simple_type(_S.SIMPLE_TYPE_STRING)
BOOL = simple_type(_S.SIMPLE_TYPE_BOOLEAN)
DATETIME = simple_type(_S.SIMPLE_TYPE_DATETIME)
DURATION = simple_type(_S.SIMPLE_TYPE_DURATION)
BINARY = simple_type(_S.SIMPLE_TYPE_BINARY)
STRUCT = simple_type(_S.SIMPLE_TYPE_STRUCT)
ANY = simple_type(_S.SIMPLE_TYPE_ANY)


def list_type(element: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``list[element]``."""
    return types_pb2.LiteralType(collection_type=element)


def dict_type(value: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``dict[str, value]``."""
    return types_pb2.LiteralType(map_value_type=value)


def union_type(*variants: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``Union[variants...]``."""
    return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=variants))


def optional_type(inner: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``Optional[inner]``: a union of ``inner`` and NONE."""
    return union_type(inner, NONE)


def blob_type(fmt: str = "", *, multipart: bool = False) -> types_pb2.LiteralType:
    """A file (or, with ``multipart``, a directory) of the given format."""
    dim = (
        types_pb2.BlobType.DIMENSIONALITY_MULTIPART
        if multipart
        else types_pb2.BlobType.DIMENSIONALITY_SINGLE
    )
    return types_pb2.LiteralType(blob=types_pb2.BlobType(format=fmt, dimensionality=dim))


def dataframe_type(
    fmt: str = "", columns: Mapping[str, types_pb2.LiteralType] | None = None
) -> types_pb2.LiteralType:
    """A structured dataset (data frame) with an optional format and declared columns."""
    cols = [
        types_pb2.StructuredDatasetType.DatasetColumn(name=n, literal_type=t)
        for n, t in (columns or {}).items()
    ]
    return types_pb2.LiteralType(
        structured_dataset_type=types_pb2.StructuredDatasetType(columns=cols, format=fmt)
    )


def enum_type(values: Iterable[str]) -> types_pb2.LiteralType:
    """A string restricted to ``values``."""
    return types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=list(values)))


def scalar_literal(scalar: literals_pb2.Scalar) -> literals_pb2.Literal:
    """Wrap a Scalar in a Literal."""
    return literals_pb2.Literal(scalar=scalar)


def primitive_literal(primitive: literals_pb2.Primitive) -> literals_pb2.Literal:
    """Wrap a Primitive in a Literal."""
    return scalar_literal(literals_pb2.Scalar(primitive=primitive))


def int_literal(value: int) -> literals_pb2.Literal:
    return primitive_literal(literals_pb2.Primitive(integer=value))


def float_literal(value: float) -> literals_pb2.Literal:
    return primitive_literal(literals_pb2.Primitive(float_value=value))


def str_literal(value: str) -> literals_pb2.Literal:
    return primitive_literal(literals_pb2.Primitive(string_value=value))


def bool_literal(value: bool) -> literals_pb2.Literal:
    return primitive_literal(literals_pb2.Primitive(boolean=value))


def none_literal() -> literals_pb2.Literal:
    return scalar_literal(literals_pb2.Scalar(none_type=literals_pb2.Void()))


def list_literal(items: Iterable[literals_pb2.Literal]) -> literals_pb2.Literal:
    return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=list(items)))


def map_literal(items: Mapping[str, literals_pb2.Literal]) -> literals_pb2.Literal:
    return literals_pb2.Literal(map=literal_map(items))


def literal_map(items: Mapping[str, literals_pb2.Literal]) -> literals_pb2.LiteralMap:
    """A LiteralMap (the inputs or outputs of a node)."""
    return literals_pb2.LiteralMap(literals=dict(items))


def blob_literal(
    uri: str, fmt: str = "", *, multipart: bool = False, content_hash: str = ""
) -> literals_pb2.Literal:
    """A file or directory by URI; ``content_hash`` becomes the literal's cache hash."""
    meta = literals_pb2.BlobMetadata(type=blob_type(fmt, multipart=multipart).blob)
    lit = scalar_literal(literals_pb2.Scalar(blob=literals_pb2.Blob(metadata=meta, uri=uri)))
    lit.hash = content_hash
    return lit
