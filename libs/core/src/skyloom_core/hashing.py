"""Stable hashes of literals, literal maps and interfaces (cache keys, registration digests).

Hashes are SHA-256 over a canonical byte encoding written here, never over
``SerializeToString`` (protobuf map order and unknown fields are not canonical). The encoding
(ADR 0051) in short:

- every value starts with a one-byte tag; strings and bytes are length-prefixed (8-byte
  big-endian), integers are 8-byte big-endian two's complement, floats IEEE-754 big-endian
  with every NaN folded into one bit pattern; so the encoding is self-delimiting;
- map entries are sorted by the UTF-8 bytes of their key; collections keep their order;
- a literal with a non-empty ``hash`` is encoded as that hash alone (files and data frames carry
  their own content hash, so their URI does not matter);
- ``Literal.metadata``, ``LiteralType.annotation`` and ``Variable.description`` are left out
  (annotations must not bust caches); ``LiteralType.metadata`` (a dataclass schema) is kept;
- the top-level digest is over a versioned prefix (``skyloom/literal-map/v1``), so a future
  encoding change is a new version, never a silent change. Golden digests are pinned in tests.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Collection

from google.protobuf import struct_pb2

from skyloom_idl.core import interface_pb2, literals_pb2, types_pb2

_MAP_PREFIX = b"skyloom/literal-map/v1\x00"
_LITERAL_PREFIX = b"skyloom/literal/v1\x00"
_VARIABLES_PREFIX = b"skyloom/variable-map/v1\x00"
_NAN = struct.pack(">d", math.nan)


class _Encoder:
    """Appends the canonical encoding of messages to a buffer."""

    def __init__(self) -> None:
        self.out = bytearray()

    def tag(self, t: bytes) -> None:
        self.out += t

    def text(self, s: str) -> None:
        self.blob(s.encode("utf-8"))

    def blob(self, b: bytes) -> None:
        self.out += struct.pack(">Q", len(b))
        self.out += b

    def integer(self, n: int) -> None:
        self.out += struct.pack(">q", n)

    def real(self, x: float) -> None:
        self.out += _NAN if math.isnan(x) else struct.pack(">d", x)

    def literal(self, lit: literals_pb2.Literal) -> None:
        if lit.hash:
            self.tag(b"H")
            self.text(lit.hash)
            return
        kind = lit.WhichOneof("value")
        if kind == "scalar":
            self.scalar(lit.scalar)
        elif kind == "collection":
            self.tag(b"L")
            self.integer(len(lit.collection.literals))
            for item in lit.collection.literals:
                self.literal(item)
        elif kind == "map":
            self.literal_map(lit.map)
        else:
            self.tag(b"0")

    def literal_map(self, m: literals_pb2.LiteralMap, ignored: Collection[str] = ()) -> None:
        keys = sorted((k for k in m.literals if k not in ignored), key=lambda k: k.encode())
        self.tag(b"M")
        self.integer(len(keys))
        for key in keys:
            self.text(key)
            self.literal(m.literals[key])

    def scalar(self, s: literals_pb2.Scalar) -> None:
        kind = s.WhichOneof("value")
        if kind == "primitive":
            self.primitive(s.primitive)
        elif kind == "blob":
            self.tag(b"B")
            self.blob_type(s.blob.metadata.type)
            self.text(s.blob.uri)
        elif kind == "binary":
            self.tag(b"Y")
            self.text(s.binary.tag)
            self.blob(s.binary.value)
        elif kind == "structured_dataset":
            self.tag(b"D")
            self.text(s.structured_dataset.uri)
            self.dataset_type(s.structured_dataset.metadata.structured_dataset_type)
        elif kind == "none_type":
            self.tag(b"N")
        elif kind == "error":
            self.tag(b"E")
            self.text(s.error.failed_node_id)
            self.text(s.error.message)
        elif kind == "generic":
            self.struct(s.generic)
        elif kind == "union":
            self.tag(b"U")
            self.literal_type(s.union.type)
            self.literal(s.union.value)
        elif kind == "enum_value":
            self.tag(b"e")
            self.text(s.enum_value)
        else:
            self.tag(b"0")

    def primitive(self, p: literals_pb2.Primitive) -> None:
        kind = p.WhichOneof("value")
        if kind == "integer":
            self.tag(b"i")
            self.integer(p.integer)
        elif kind == "float_value":
            self.tag(b"f")
            self.real(p.float_value)
        elif kind == "string_value":
            self.tag(b"s")
            self.text(p.string_value)
        elif kind == "boolean":
            self.tag(b"b")
            self.tag(b"\x01" if p.boolean else b"\x00")
        elif kind == "datetime":
            self.tag(b"t")
            self.integer(p.datetime.seconds)
            self.integer(p.datetime.nanos)
        elif kind == "duration":
            self.tag(b"d")
            self.integer(p.duration.seconds)
            self.integer(p.duration.nanos)
        else:
            self.tag(b"0")

    def struct(self, s: struct_pb2.Struct) -> None:
        keys = sorted(s.fields, key=lambda k: k.encode())
        self.tag(b"G")
        self.integer(len(keys))
        for key in keys:
            self.text(key)
            self.value(s.fields[key])

    def value(self, v: struct_pb2.Value) -> None:
        kind = v.WhichOneof("kind")
        if kind == "number_value":
            self.tag(b"n")
            self.real(v.number_value)
        elif kind == "string_value":
            self.tag(b"s")
            self.text(v.string_value)
        elif kind == "bool_value":
            self.tag(b"b")
            self.tag(b"\x01" if v.bool_value else b"\x00")
        elif kind == "struct_value":
            self.struct(v.struct_value)
        elif kind == "list_value":
            self.tag(b"A")
            self.integer(len(v.list_value.values))
            for item in v.list_value.values:
                self.value(item)
        else:  # null_value, or unset
            self.tag(b"N")

    def literal_type(self, t: types_pb2.LiteralType) -> None:
        kind = t.WhichOneof("type")
        if kind == "simple":
            self.tag(b"S")
            self.integer(t.simple)
        elif kind == "collection_type":
            self.tag(b"L")
            self.literal_type(t.collection_type)
        elif kind == "map_value_type":
            self.tag(b"M")
            self.literal_type(t.map_value_type)
        elif kind == "blob":
            self.blob_type(t.blob)
        elif kind == "enum_type":
            self.tag(b"e")
            self.integer(len(t.enum_type.values))
            for value in t.enum_type.values:
                self.text(value)
        elif kind == "structured_dataset_type":
            self.dataset_type(t.structured_dataset_type)
        elif kind == "union_type":
            self.tag(b"U")
            self.integer(len(t.union_type.variants))
            for variant in t.union_type.variants:
                self.literal_type(variant)
        else:
            self.tag(b"0")
        self.text(t.structure.tag)
        if t.HasField("metadata"):
            self.tag(b"m")
            self.struct(t.metadata)
        else:
            self.tag(b"-")

    def blob_type(self, b: types_pb2.BlobType) -> None:
        self.tag(b"B")
        self.text(b.format)
        self.integer(b.dimensionality)

    def dataset_type(self, d: types_pb2.StructuredDatasetType) -> None:
        self.tag(b"D")
        self.text(d.format)
        self.integer(len(d.columns))
        for column in d.columns:
            self.text(column.name)
            self.literal_type(column.literal_type)

    def variable_map(self, vm: interface_pb2.VariableMap) -> None:
        keys = sorted(vm.variables, key=lambda k: k.encode())
        self.tag(b"V")
        self.integer(len(keys))
        for key in keys:
            self.text(key)
            self.literal_type(vm.variables[key].type)


def canonical_literal_map(
    literals: literals_pb2.LiteralMap, *, ignored: Collection[str] = ()
) -> bytes:
    """The canonical encoding of a literal map (without the version prefix)."""
    enc = _Encoder()
    enc.literal_map(literals, ignored)
    return bytes(enc.out)


def hash_literal_map(literals: literals_pb2.LiteralMap, *, ignored: Collection[str] = ()) -> str:
    """Hex SHA-256 of a literal map, leaving out the inputs named in ``ignored``."""
    return hashlib.sha256(
        _MAP_PREFIX + canonical_literal_map(literals, ignored=ignored)
    ).hexdigest()


def hash_literal(literal: literals_pb2.Literal) -> str:
    """Hex SHA-256 of one literal (its own ``hash`` when set)."""
    enc = _Encoder()
    enc.literal(literal)
    return hashlib.sha256(_LITERAL_PREFIX + bytes(enc.out)).hexdigest()


def hash_variable_map(variables: interface_pb2.VariableMap) -> str:
    """Hex SHA-256 of a VariableMap's names and types (descriptions and order left out)."""
    enc = _Encoder()
    enc.variable_map(variables)
    return hashlib.sha256(_VARIABLES_PREFIX + bytes(enc.out)).hexdigest()
