"""Records (dataclasses, and pydantic models in :mod:`skyloom.types.pydantic_models`) as STRUCT.

A record is stored as a ``Struct`` of its fields' JSON forms (:mod:`skyloom.types.jsonlit`):
each field is converted by the engine as its declared type, so nested records, lists, enums,
datetimes and files round-trip exactly, and a field's error carries its path (``cfg.lr``).
The literal type is ``SIMPLE_TYPE_STRUCT`` with metadata ``{"python_class": "mod.Qual",
"json_schema": {...}}``. When any nested value has a content hash (a file), the literal's
``hash`` is computed over the struct with those URIs replaced by their hashes.

Decoding tolerates schema evolution: a field missing from the stored struct takes its default;
a stored field the class no longer has is ignored.
"""

from __future__ import annotations

import dataclasses
import typing
from abc import abstractmethod
from collections.abc import Mapping

from google.protobuf import struct_pb2

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, qualified_name, type_name
from skyloom.types.jsonlit import (
    JSON,
    content_hash,
    has_content_hash,
    json_to_literal,
    literal_to_json,
    struct_to_dict,
)
from skyloom.types.protos import literal_kind, scalar, scalar_kind
from skyloom.types.schema import json_schema
from skyloom.types.schema_guess import hint_from_schema, known_class
from skyloom.types.transformer import Converter, TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One field of a record: its declared hint and whether it may be omitted."""

    hint: TypeHint
    has_default: bool


class RecordTransformer(TypeTransformer[object]):
    """Shared field walk for record-like classes; subclasses say what a field is."""

    def __init__(self, engine: Converter) -> None:
        self._engine = engine
        self._fields: dict[type, dict[str, FieldSpec]] = {}

    @abstractmethod
    def fields(self, cls: type) -> dict[str, FieldSpec]:
        """The record's fields in declaration order (called once per class, then cached)."""

    def _specs(self, cls: type) -> dict[str, FieldSpec]:
        found = self._fields.get(cls)
        if found is None:
            found = self._fields[cls] = self.fields(cls)
        return found

    @abstractmethod
    def build(self, cls: type, values: dict[str, object]) -> object:
        """An instance of ``cls`` from decoded field values (omitted fields take defaults)."""

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        assert isinstance(python_type, type)
        props: dict[str, JSON] = {}
        required: list[JSON] = []
        for name, spec in self._specs(python_type).items():
            props[name] = json_schema(self._engine.literal_type(spec.hint))
            if not spec.has_default:
                required.append(name)
        schema: dict[str, JSON] = {
            "title": python_type.__name__,
            "x-python-class": qualified_name(python_type),
            "type": "object",
            "properties": props,
            "required": required,
        }
        meta = struct_pb2.Struct()
        meta.update({"python_class": qualified_name(python_type), "json_schema": schema})
        return types_pb2.LiteralType(simple=types_pb2.SIMPLE_TYPE_STRUCT, metadata=meta)

    def to_literal(
        self, value: object, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        assert isinstance(python_type, type)
        if not isinstance(value, python_type):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        encoded: dict[str, JSON] = {}
        for name, spec in self._specs(python_type).items():
            try:
                lit = self._engine.to_literal(getattr(value, name), spec.hint, ctx)
            except TypeTransformerError as err:
                raise err.at_attr(name) from err
            encoded[name] = literal_to_json(lit, self._engine.literal_type(spec.hint))
        st = struct_pb2.Struct()
        st.update(encoded)
        out = scalar(generic=st)
        if has_content_hash(encoded):
            out.hash = content_hash(encoded)
        return out

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> object:
        assert isinstance(python_type, type)
        if scalar_kind(literal) != "generic":
            raise TypeTransformerError(type_name(python_type), f"a {literal_kind(literal)} literal")
        stored: Mapping[str, JSON] = struct_to_dict(literal.scalar.generic)
        values: dict[str, object] = {}
        for name, spec in self._specs(python_type).items():
            if name not in stored:
                if spec.has_default:
                    continue
                raise TypeTransformerError(type_name(spec.hint), "nothing (field missing)").at_attr(
                    name
                )
            try:
                lt = self._engine.literal_type(spec.hint)
                values[name] = self._engine.to_python(
                    json_to_literal(stored[name], lt), spec.hint, ctx
                )
            except TypeTransformerError as err:
                raise err.at_attr(name) from err
        return self.build(python_type, values)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return False


def _schema_of(literal_type: types_pb2.LiteralType) -> dict[str, JSON] | None:
    if literal_type.WhichOneof("type") != "simple":
        return None
    if literal_type.simple != types_pb2.SIMPLE_TYPE_STRUCT:
        return None
    schema = struct_to_dict(literal_type.metadata).get("json_schema")
    return schema if isinstance(schema, dict) else None


class DataclassTransformer(RecordTransformer):
    """Dataclass classes ↔ STRUCT (see the module docstring)."""

    name = "dataclass"

    def matches(self, python_type: TypeHint) -> bool:
        return isinstance(python_type, type) and dataclasses.is_dataclass(python_type)

    def fields(self, cls: type) -> dict[str, FieldSpec]:
        hints = typing.get_type_hints(cls, include_extras=True)
        return {
            f.name: FieldSpec(
                hints[f.name],
                f.default is not dataclasses.MISSING
                or f.default_factory is not dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)
        }

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return _schema_of(literal_type) is not None

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        """The class named in the metadata if already imported, else a dataclass built from the
        JSON schema (see :mod:`skyloom.types.schema_guess`)."""
        named = struct_to_dict(literal_type.metadata).get("python_class")
        cls = known_class(named) if isinstance(named, str) else None
        if cls is not None and self.matches(cls):
            return cls
        return hint_from_schema(_schema_of(literal_type) or {})

    def build(self, cls: type, values: dict[str, object]) -> object:
        init = {f.name for f in dataclasses.fields(cls) if f.init}
        obj = cls(**{k: v for k, v in values.items() if k in init})
        for k, v in values.items():
            if k not in init:
                object.__setattr__(obj, k, v)  # frozen dataclasses too
        return obj
