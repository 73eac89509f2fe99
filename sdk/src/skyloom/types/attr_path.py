"""Attribute paths into literals: ``cfg.layers[0].width`` without the Python classes.

A workflow may bind ``train(lr=cfg.lr)`` where ``cfg`` is an upstream output; the binding is an
``OutputReference`` with an ``attr_path``. These pure functions resolve such a path against a
literal type (for the compiler) or a literal (for an executor). Steps: a ``str`` selects a
record field (via the record's JSON schema, see :mod:`skyloom.types.schema`) or a map key; an
``int`` selects a list element. An Optional is looked through (a ``None`` value is an error).
Errors are :class:`TypeTransformerError` with the path so far.
"""

from __future__ import annotations

from collections.abc import Sequence

from skyloom.types.errors import ErrorPath, TypeTransformerError
from skyloom.types.jsonlit import JSON, json_to_literal, struct_to_dict
from skyloom.types.protos import literal_kind, scalar_kind
from skyloom.types.schema import literal_type_from_schema
from skyloom_idl.core import literals_pb2, types_pb2

Step = str | int


def _render(path: Sequence[Step]) -> ErrorPath:
    return ErrorPath(steps=tuple(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path))


def _fail(expected: str, got: str, path: Sequence[Step]) -> TypeTransformerError:
    return TypeTransformerError(expected, got, path=_render(path))


def _unwrap_optional(lt: types_pb2.LiteralType) -> types_pb2.LiteralType:
    if lt.WhichOneof("type") != "union_type":
        return lt
    real = [
        v
        for v in lt.union_type.variants
        if not (v.WhichOneof("type") == "simple" and v.simple == types_pb2.SIMPLE_TYPE_NONE)
    ]
    return real[0] if len(real) == 1 else lt


def _field_schema(lt: types_pb2.LiteralType, name: str) -> dict[str, JSON] | None:
    schema = struct_to_dict(lt.metadata).get("json_schema")
    props = schema.get("properties") if isinstance(schema, dict) else None
    field = props.get(name) if isinstance(props, dict) else None
    return field if isinstance(field, dict) else None


def _step_type(
    lt: types_pb2.LiteralType, step: Step, done: Sequence[Step]
) -> types_pb2.LiteralType:
    lt = _unwrap_optional(lt)
    kind = lt.WhichOneof("type")
    if isinstance(step, int):
        if kind == "collection_type":
            return lt.collection_type
        raise _fail("a list to index", f"{kind} indexed by {step}", done)
    if kind == "map_value_type":
        return lt.map_value_type
    if kind == "simple" and lt.simple == types_pb2.SIMPLE_TYPE_STRUCT:
        field = _field_schema(lt, step)
        if field is None:
            raise _fail("a record with field " + repr(step), "a record without it", done)
        return literal_type_from_schema(field)
    raise _fail("a record or map", f"{kind} with attribute {step!r}", done)


def select_type(lt: types_pb2.LiteralType, path: Sequence[Step]) -> types_pb2.LiteralType:
    """The literal type found at ``path`` inside a value of type ``lt``."""
    for i, step in enumerate(path):
        lt = _step_type(lt, step, path[:i])
    return lt


def select(
    literal: literals_pb2.Literal, lt: types_pb2.LiteralType, path: Sequence[Step]
) -> tuple[literals_pb2.Literal, types_pb2.LiteralType]:
    """The literal (and its type) at ``path`` inside ``literal`` of type ``lt``."""
    for i, step in enumerate(path):
        done = path[:i]
        if scalar_kind(literal) == "union":
            literal = literal.scalar.union.value
        if scalar_kind(literal) == "none_type":
            raise _fail("a value", f"None before {step!r}", done)
        child_lt = _step_type(lt, step, done)
        kind = literal.WhichOneof("value")
        if isinstance(step, int):
            items = literal.collection.literals
            if kind != "collection" or not -len(items) <= step < len(items):
                raise _fail(f"a list with index {step}", f"a {literal_kind(literal)}", done)
            literal = items[step]
        elif kind == "map":
            if step not in literal.map.literals:
                raise _fail(f"a map with key {step!r}", "a map without it", done)
            literal = literal.map.literals[step]
        elif scalar_kind(literal) == "generic":
            stored = struct_to_dict(literal.scalar.generic)
            if step not in stored:
                raise _fail(f"a record with field {step!r}", "a record without it", done)
            literal = json_to_literal(stored[step], child_lt)
        else:
            raise _fail("a record or map", f"a {literal_kind(literal)} literal", done)
        lt = child_lt
    return literal, lt
