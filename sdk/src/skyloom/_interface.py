"""Python signatures → typed interfaces (names, Python types, literal types, descriptions)."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skyloom._engine import engine
from skyloom._errors import CompileError
from skyloom._source import object_location
from skyloom_idl.core import interface_pb2

NO_DEFAULT: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class PyInterface:
    """Inputs and outputs with their Python types, in declaration order."""

    inputs: dict[str, Any]
    outputs: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    # Output names come from a NamedTuple: the call returns one with these fields.
    output_tuple: type | None = None

    def to_proto(self) -> interface_pb2.TypedInterface:
        eng = engine()
        return interface_pb2.TypedInterface(
            inputs=_var_map(self.inputs, self.descriptions, eng),
            outputs=_var_map(self.outputs, {}, eng),
        )


def _var_map(types: Mapping[str, Any], desc: Mapping[str, str], eng: Any) -> Any:
    vm = interface_pb2.VariableMap(order=list(types))
    for name, t in types.items():
        vm.variables[name].CopyFrom(
            interface_pb2.Variable(type=eng.literal_type(t), description=desc.get(name, ""))
        )
    return vm


def list_of(t: Any) -> Any:
    """``list[t]`` for a type known only at run time."""
    return types.GenericAlias(list, (t,))


def optional_of(t: Any) -> Any:
    """``t | None`` for a type known only at run time."""
    return typing.Union[t, None]  # noqa: UP007


def output_types(ret: Any) -> tuple[dict[str, Any], type | None]:
    """None → no outputs; NamedTuple → its fields; tuple[...] → o0, o1...; else o0."""
    if ret is None or ret is type(None):
        return {}, None
    if isinstance(ret, type) and issubclass(ret, tuple) and hasattr(ret, "_fields"):
        hints = typing.get_type_hints(ret)
        return {f: hints[f] for f in ret._fields}, ret
    if typing.get_origin(ret) is tuple:
        return {f"o{i}": t for i, t in enumerate(typing.get_args(ret))}, None
    return {"o0": ret}, None


def interface_of(fn: Callable[..., Any], kind: str) -> PyInterface:
    """Read ``fn``'s signature; every input and the return need a type hint."""
    loc = object_location(fn)
    where = f"{kind} {fn.__name__} ({loc})"
    try:
        hints = typing.get_type_hints(fn, include_extras=False)
    except NameError as err:
        raise CompileError(f"{where}: cannot resolve a type hint: {err}", location=loc) from err
    sig = inspect.signature(fn)
    inputs: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for name, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise CompileError(
                f"{where}: *args and **kwargs are not supported ({name})", location=loc
            )
        if name not in hints:
            raise CompileError(f"{where}: input '{name}' needs a type hint", location=loc)
        inputs[name] = hints[name]
        if param.default is not param.empty:
            defaults[name] = param.default
    if "return" not in hints and sig.return_annotation is sig.empty:
        outputs: dict[str, Any] = {}
        tuple_type = None
    else:
        outputs, tuple_type = output_types(hints.get("return"))
    eng = engine()
    for name, t in {**inputs, **outputs}.items():
        try:
            eng.literal_type(t)
        except (TypeError, ValueError) as err:
            raise CompileError(
                f"{where}: '{name}' has an unsupported type: {err}", location=loc
            ) from err
    return PyInterface(inputs, outputs, defaults, param_docs(fn.__doc__ or ""), tuple_type)


def summary(doc: str | None) -> str:
    """The docstring's first paragraph."""
    text = inspect.cleandoc(doc or "")
    return text.split("\n\n", 1)[0].strip()


_GOOGLE_ARG = re.compile(r"^\s{2,}(\w+)(?:\s*\(.*?\))?:\s*(.+)$")
_SPHINX_ARG = re.compile(r"^\s*:param\s+(?:\S+\s+)?(\w+):\s*(.+)$")


def param_docs(doc: str) -> dict[str, str]:
    """Input descriptions from Google-style ``Args:`` or Sphinx ``:param x:`` lines."""
    out: dict[str, str] = {}
    in_args = False
    for line in inspect.cleandoc(doc).splitlines():
        if line.strip() in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        m = _SPHINX_ARG.match(line)
        if m:
            out[m.group(1)] = m.group(2).strip()
            continue
        if in_args:
            m = _GOOGLE_ARG.match("  " + line) if line.startswith("    ") else None
            if m:
                out[m.group(1)] = m.group(2).strip()
            elif line and not line.startswith(" "):
                in_args = False
    return out
