"""Binding resolution: a node's inputs from constants and upstream outputs, as a pure function.

``resolve_bindings(bindings, lookup)`` builds the ``LiteralMap`` a node receives. ``lookup``
is the literal-store seam: it answers a node id's outputs (``start-node``: the scope's inputs)
or ``None`` when they are not loaded yet, in which case ``NotReady`` names what is missing and
the engine fetches it. Spec problems found at run time (a missing output variable, an attribute
path that does not fit the value) raise ``BindingError``: the node fails as a USER error.

Attribute paths (``cfg.layers[0].width``): an ``int`` step indexes a list; a ``str`` step selects
a map key or a record field. Records are ``Struct`` literals; a selected field is turned back into
a literal using the consuming input's ``LiteralType`` when the caller gives one (ints stored as
JSON numbers stay ints), else by the JSON value's own shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from google.protobuf import struct_pb2

from skyloom_idl.core import literals_pb2, types_pb2

Lookup = Callable[[str], literals_pb2.LiteralMap | None]


class NotReady(Exception):
    """The outputs of ``node_id`` are not loaded yet."""

    def __init__(self, node_id: str) -> None:
        super().__init__(node_id)
        self.node_id = node_id


class BindingError(Exception):
    """A binding cannot be resolved against the values the workflow produced."""


def resolve_bindings(
    bindings: Iterable[literals_pb2.Binding],
    lookup: Lookup,
    types: Mapping[str, types_pb2.LiteralType] | None = None,
) -> literals_pb2.LiteralMap:
    """The ``LiteralMap`` of ``bindings`` (a repeated ``Binding``); see the module docstring."""
    out = literals_pb2.LiteralMap()
    for b in bindings:
        t = types.get(b.var) if types else None
        out.literals[b.var].CopyFrom(resolve(b.binding, lookup, t))
    return out


def resolve(
    data: literals_pb2.BindingData, lookup: Lookup, t: types_pb2.LiteralType | None = None
) -> literals_pb2.Literal:
    """The literal one ``BindingData`` stands for."""
    kind = data.WhichOneof("value")
    if kind == "scalar":
        return literals_pb2.Literal(scalar=data.scalar)
    if kind == "collection":
        inner = t.collection_type if t is not None and t.HasField("collection_type") else None
        items = [resolve(d, lookup, inner) for d in data.collection.bindings]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if kind == "map":
        inner = t.map_value_type if t is not None and t.HasField("map_value_type") else None
        m = literals_pb2.LiteralMap()
        for key in sorted(data.map.bindings):
            m.literals[key].CopyFrom(resolve(data.map.bindings[key], lookup, inner))
        return literals_pb2.Literal(map=m)
    if kind == "union":
        value = resolve(data.union.value, lookup, data.union.target_type)
        union = literals_pb2.Union(value=value, type=data.union.target_type)
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(union=union))
    if kind == "promise":
        p = data.promise
        outputs = lookup(p.node_id)
        if outputs is None:
            raise NotReady(p.node_id)
        if p.var not in outputs.literals:
            raise BindingError(f"node '{p.node_id}' produced no output '{p.var}'")
        literal = outputs.literals[p.var]
        steps = [a.string_value if a.HasField("string_value") else a.int_value for a in p.attr_path]
        return select(literal, steps, t, f"{p.node_id}.{p.var}") if steps else literal
    raise BindingError("binding has no value")


def select(
    literal: literals_pb2.Literal,
    steps: list[str | int],
    t: types_pb2.LiteralType | None,
    where: str,
) -> literals_pb2.Literal:
    """The literal at ``steps`` inside ``literal`` (``t``: the type wanted at the end)."""
    for i, step in enumerate(steps):
        if literal.HasField("scalar") and literal.scalar.HasField("union"):
            literal = literal.scalar.union.value
        shown = where + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps[:i])
        kind = literal.WhichOneof("value")
        if isinstance(step, int):
            items = literal.collection.literals
            if kind != "collection" or not -len(items) <= step < len(items):
                raise BindingError(f"{shown} has no index {step}")
            literal = items[step]
        elif kind == "map":
            if step not in literal.map.literals:
                raise BindingError(f"{shown} has no key {step!r}")
            literal = literal.map.literals[step]
        elif kind == "scalar" and literal.scalar.HasField("generic"):
            fields = literal.scalar.generic.fields
            if step not in fields:
                raise BindingError(f"{shown} has no field {step!r}")
            rest = steps[i + 1 :]
            return _from_json_path(fields[step], rest, t, f"{shown}.{step}")
        else:
            raise BindingError(f"{shown} is not a list, map or record (step {step!r})")
    return literal


def _from_json_path(
    value: struct_pb2.Value, rest: list[str | int], t: types_pb2.LiteralType | None, where: str
) -> literals_pb2.Literal:
    for step in rest:
        kind = value.WhichOneof("kind")
        if isinstance(step, int) and kind == "list_value":
            items = value.list_value.values
            if not -len(items) <= step < len(items):
                raise BindingError(f"{where} has no index {step}")
            value = items[step]
        elif isinstance(step, str) and kind == "struct_value":
            if step not in value.struct_value.fields:
                raise BindingError(f"{where} has no field {step!r}")
            value = value.struct_value.fields[step]
        else:
            raise BindingError(f"{where} cannot take step {step!r}")
        where += f"[{step}]" if isinstance(step, int) else f".{step}"
    return json_to_literal(value, t)


def _primitive(**kw: object) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(**kw))  # type: ignore[arg-type]
    )


def json_to_literal(
    value: struct_pb2.Value, t: types_pb2.LiteralType | None
) -> literals_pb2.Literal:
    """A JSON value (from a record) as a literal, typed by ``t`` when given."""
    kind = value.WhichOneof("kind")
    simple = t.simple if t is not None and t.HasField("simple") else None
    if kind == "null_value":
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
    if kind == "bool_value":
        return _primitive(boolean=value.bool_value)
    if kind == "number_value":
        n = value.number_value
        if simple == types_pb2.SIMPLE_TYPE_FLOAT or (simple is None and not n.is_integer()):
            return _primitive(float_value=n)
        return _primitive(integer=int(n))
    if kind == "string_value":
        s = value.string_value
        if simple == types_pb2.SIMPLE_TYPE_INTEGER:
            return _primitive(integer=int(s))
        if simple == types_pb2.SIMPLE_TYPE_FLOAT:
            return _primitive(float_value=float(s))
        return _primitive(string_value=s)
    if kind == "list_value":
        inner = t.collection_type if t is not None and t.HasField("collection_type") else None
        items = [json_to_literal(v, inner) for v in value.list_value.values]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if t is not None and t.HasField("map_value_type"):
        m = literals_pb2.LiteralMap()
        for k, v in sorted(value.struct_value.fields.items()):
            m.literals[k].CopyFrom(json_to_literal(v, t.map_value_type))
        return literals_pb2.Literal(map=m)
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=value.struct_value))
