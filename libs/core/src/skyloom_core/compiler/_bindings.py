"""Resolving promises and type-checking bindings against the types a node expects.

A binding is checked in two passes: first every promise in it is resolved once (reporting
unknown nodes, outputs and attributes, and recording the upstream nodes it implies); then its
shape is matched against the expected type, trying each variant of a union target.

Attribute paths (``promise.attr_path``): a list takes an int index, a map a string key, a STRUCT
a field name. A STRUCT whose metadata is a JSON schema gives the field's type (an unknown field
is an error); an opaque STRUCT (or ANY) allows any path and its result is of unknown type, which
is never reported as a mismatch: the value is checked when it exists, at run time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from skyloom_core.compiler._context import START_NODE, Interface, Location, Sink
from skyloom_core.compiler.codes import ErrorCode
from skyloom_core.schema import field_type
from skyloom_core.types import is_any, is_castable, type_name
from skyloom_core.validation import describe_literal, validate_literal
from skyloom_idl.core import literals_pb2, types_pb2

_ANY = types_pb2.LiteralType(simple=types_pb2.SimpleType.SIMPLE_TYPE_ANY)
_UNKNOWN = object()


@dataclass(slots=True)
class Scope:
    """The nodes a binding may point at: id -> interface, display names, and an optional
    alias (a branch's own id, whose "outputs" are the branch's inputs for its inner nodes)."""

    interfaces: Mapping[str, Interface]
    displays: Mapping[str, str]
    infer_passthrough: Callable[[str, str], types_pb2.LiteralType | None] | None = None


@dataclass(slots=True)
class Resolution:
    """What the first pass learned about a binding's promises."""

    types: dict[str, types_pb2.LiteralType | None] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    deps: dict[str, str] = field(default_factory=dict)  # upstream node id -> first path
    broken: bool = False


def resolve_promises(
    bd: literals_pb2.BindingData, path: str, scope: Scope, sink: Sink | None, loc: Location
) -> Resolution:
    """Resolve every promise in ``bd`` (pass 1). ``sink`` None means: report nothing."""
    res = Resolution()
    stack = [(bd, path)]
    while stack:
        data, p = stack.pop()
        kind = data.WhichOneof("value")
        if kind == "collection":
            stack += [
                (b, f"{p}.collection.bindings[{i}]") for i, b in enumerate(data.collection.bindings)
            ]
        elif kind == "map":
            stack += [
                (data.map.bindings[k], f"{p}.map.bindings[{json.dumps(k)}]")
                for k in data.map.bindings
            ]
        elif kind == "union":
            stack.append((data.union.value, f"{p}.union.value"))
        elif kind == "promise":
            t = _resolve_one(data.promise, f"{p}.promise", scope, sink, loc, res)
            res.types[p] = None if t is _UNKNOWN else t  # type: ignore[assignment]
    return res


def _resolve_one(
    ref: types_pb2.OutputReference,
    path: str,
    scope: Scope,
    sink: Sink | None,
    loc: Location,
    res: Resolution,
) -> object:
    iface = scope.interfaces.get(ref.node_id)
    if iface is None:
        res.broken = True
        if sink is not None:
            msg = f"{loc.display} uses an output of node '{ref.node_id}', which does not exist"
            sink.at(loc, ErrorCode.UNKNOWN_NODE, msg, f"{path}.node_id")
        return _UNKNOWN
    res.deps.setdefault(ref.node_id, path)
    display = scope.displays.get(ref.node_id, ref.node_id)
    if iface.opaque:
        return _UNKNOWN
    if ref.var not in iface.outputs:
        res.broken = True
        if sink is not None:
            have = ", ".join(sorted(iface.outputs)) or "none"
            what = (
                "the workflow has no input"
                if ref.node_id == START_NODE
                else f"node '{display}' has no output"
            )
            msg = f"{what} '{ref.var}' (available: {have}), used by {loc.display}"
            sink.at(loc, ErrorCode.UNKNOWN_OUTPUT, msg, f"{path}.var")
        return _UNKNOWN
    t = iface.outputs[ref.var]
    if t is None and iface.passthrough and scope.infer_passthrough is not None:
        t = scope.infer_passthrough(ref.node_id, ref.var)
    source = f"workflow input '{ref.var}'" if ref.node_id == START_NODE else f"{display}.{ref.var}"
    for i, attr in enumerate(ref.attr_path):
        step = attr.WhichOneof("value")
        source += f"[{attr.int_value}]" if step == "int_value" else f".{attr.string_value}"
        if t is None or is_any(t):
            t = None
            continue
        nxt, problem = _step(t, attr)
        if problem:
            res.broken = True
            if sink is not None:
                msg = f"{loc.display}: cannot take {problem} of {type_name(t)} ({source})"
                sink.at(loc, ErrorCode.INVALID_ATTRIBUTE_PATH, msg, f"{path}.attr_path[{i}]")
            return _UNKNOWN
        t = nxt
    res.sources[path.removesuffix(".promise")] = source
    return t if t is not None else _UNKNOWN


def _step(
    t: types_pb2.LiteralType, attr: types_pb2.PromiseAttribute
) -> tuple[types_pb2.LiteralType | None, str]:
    kind = t.WhichOneof("type")
    if attr.WhichOneof("value") == "int_value":
        if kind == "collection_type":
            return t.collection_type, ""
        return None, f"index [{attr.int_value}]"
    name = attr.string_value
    if kind == "map_value_type":
        return t.map_value_type, ""
    if kind == "simple" and t.simple == types_pb2.SimpleType.SIMPLE_TYPE_STRUCT:
        known, ft = field_type(t, name)
        return (ft, "") if known else (None, f"unknown attribute '{name}'")
    return None, f"attribute '{name}'"


def infer_type(
    bd: literals_pb2.BindingData, res: Resolution, path: str
) -> types_pb2.LiteralType | None:
    """The type a binding evidently produces (None when it cannot be told)."""
    kind = bd.WhichOneof("value")
    if kind == "promise":
        return res.types.get(path)
    if kind == "scalar":
        from skyloom_core.validation import scalar_type_of

        return scalar_type_of(bd.scalar)
    if kind == "union":
        return bd.union.target_type
    if kind == "collection":
        items = [
            infer_type(b, res, f"{path}.collection.bindings[{i}]")
            for i, b in enumerate(bd.collection.bindings)
        ]
        if not items or items[0] is None or any(x != items[0] for x in items):
            return None
        return types_pb2.LiteralType(collection_type=items[0])
    if kind == "map":
        values = [
            infer_type(b, res, f"{path}.map.bindings[{json.dumps(k)}]")
            for k, b in bd.map.bindings.items()
        ]
        if not values or values[0] is None or any(x != values[0] for x in values):
            return None
        return types_pb2.LiteralType(map_value_type=values[0])
    return None


@dataclass(frozen=True, slots=True)
class Issue:
    """A type mismatch found in pass 2, relative to the binding's root."""

    path: str
    where: str
    expected: types_pb2.LiteralType
    got: str


def check_shape(
    bd: literals_pb2.BindingData,
    expected: types_pb2.LiteralType | None,
    path: str,
    res: Resolution,
    where: str = "",
) -> list[Issue]:
    """Match a binding against ``expected`` (pass 2); returns the mismatches, none reported."""
    if expected is None or is_any(expected):
        return []
    kind = bd.WhichOneof("value")
    if kind == "promise":
        actual = res.types.get(path)
        if actual is None or is_castable(actual, expected):
            return []
        return [
            Issue(
                path + ".promise",
                where,
                expected,
                f"{type_name(actual)} from {res.sources.get(path, '?')}",
            )
        ]
    if kind == "union":
        target = bd.union.target_type
        if not is_castable(target, expected):
            return [Issue(path + ".union", where, expected, f"a value of {type_name(target)}")]
        return check_shape(bd.union.value, target, f"{path}.union.value", res, where)
    if expected.WhichOneof("type") == "union_type" and kind != "scalar":
        for variant in expected.union_type.variants:
            if not check_shape(bd, variant, path, res, where):
                return []
        inferred = infer_type(bd, res, path)
        shown = type_name(inferred) if inferred is not None else _kind_word(kind)
        return [Issue(path, where, expected, shown)]
    if kind == "scalar":
        if validate_literal(literals_pb2.Literal(scalar=bd.scalar), expected, ""):
            got = describe_literal(literals_pb2.Literal(scalar=bd.scalar))
            return [Issue(path + ".scalar", where, expected, f"{got} constant")]
        return []
    if kind == "collection":
        if expected.WhichOneof("type") != "collection_type":
            return [Issue(path, where, expected, "a list")]
        out: list[Issue] = []
        for i, b in enumerate(bd.collection.bindings):
            out += check_shape(
                b,
                expected.collection_type,
                f"{path}.collection.bindings[{i}]",
                res,
                f"{where}[{i}]",
            )
        return out
    if kind == "map":
        if expected.WhichOneof("type") != "map_value_type":
            return [Issue(path, where, expected, "a dict")]
        out = []
        for key in sorted(bd.map.bindings):
            sub = f"{path}.map.bindings[{json.dumps(key)}]"
            out += check_shape(
                bd.map.bindings[key],
                expected.map_value_type,
                sub,
                res,
                f"{where}[{json.dumps(key)}]",
            )
        return out
    return [Issue(path, where, expected, "an empty binding")]


def _kind_word(kind: str | None) -> str:
    return {"collection": "a list", "map": "a dict"}.get(str(kind), "an empty binding")


def report(issues: list[Issue], target: str, sink: Sink, loc: Location) -> None:
    """Report pass-2 mismatches: ``input 'scale' of clean expects int, got str from load.o0``."""
    for issue in issues:
        at = f" at {issue.where}" if issue.where else ""
        msg = f"{target}{at} expects {type_name(issue.expected)}, got {issue.got}"
        sink.at(loc, ErrorCode.MISMATCHING_TYPES, msg, issue.path)
