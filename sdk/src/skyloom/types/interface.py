"""Typed interfaces from Python signatures.

Inputs are the parameters (with their defaults); outputs come from the return hint:
``None`` → no outputs; a ``NamedTuple`` → its field names; ``tuple[A, B]`` → ``o0``, ``o1``;
anything else → one output ``o0``. Descriptions come from the docstring (Google, numpy or
Sphinx style).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from skyloom.types.docstrings import parse_docstring
from skyloom.types.errors import InterfaceError
from skyloom.types.hints import TypeHint, strip_annotated

_EMPTY = inspect.Parameter.empty


@dataclass(frozen=True)
class PythonInterface:
    """A function's inputs and outputs as Python hints, in declaration order.

    ``output_tuple`` is the ``NamedTuple`` class when the return hint is one, ``tuple`` for
    ``tuple[...]`` returns, ``None`` for zero or one output.
    """

    name: str
    inputs: dict[str, TypeHint]
    outputs: dict[str, TypeHint]
    defaults: dict[str, object] = field(default_factory=dict)
    input_descriptions: dict[str, str] = field(default_factory=dict)
    output_descriptions: dict[str, str] = field(default_factory=dict)
    output_tuple: type | None = None
    docstring: str = ""

    def output_values(self, result: object) -> dict[str, object]:
        """Split a function's return value into named outputs.

        Raises :class:`InterfaceError` if a multi-output function returned the wrong arity.
        """
        names = list(self.outputs)
        if not names:
            return {}
        if self.output_tuple is None:
            return {names[0]: result}
        if not isinstance(result, tuple) or len(result) != len(names):
            got = (
                f"{type(result).__name__} of length {len(result)}"
                if isinstance(result, tuple)
                else type(result).__name__
            )
            raise InterfaceError(
                self.name, "", f"must return a tuple of {len(names)} values, returned {got}"
            )
        return dict(zip(names, result, strict=True))

    def pack_outputs(self, values: Mapping[str, object]) -> object:
        """The inverse of :meth:`output_values`: what calling the function would have returned."""
        names = list(self.outputs)
        if not names:
            return None
        if self.output_tuple is None:
            return values[names[0]]
        ordered = [values[n] for n in names]
        if self.output_tuple is tuple:
            return tuple(ordered)
        return self.output_tuple(*ordered)


def _is_namedtuple(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def _outputs(fn_name: str, ret: TypeHint) -> tuple[dict[str, TypeHint], type | None]:
    if ret is None or ret is type(None) or ret is _EMPTY:
        return {}, None
    bare, _ = strip_annotated(ret)
    if _is_namedtuple(bare):
        assert isinstance(bare, type)
        hints = typing.get_type_hints(bare, include_extras=True)
        fields: tuple[str, ...] = getattr(bare, "_fields", ())
        missing = [f for f in fields if f not in hints]
        if missing:
            raise InterfaceError(fn_name, "", f"NamedTuple field '{missing[0]}' has no type hint")
        return {f: hints[f] for f in fields}, bare
    if typing.get_origin(bare) is tuple:
        args = typing.get_args(bare)
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return {"o0": ret}, None  # a variable-length tuple is one value
        return {f"o{i}": a for i, a in enumerate(args)}, tuple
    return {"o0": ret}, None


def _signature_hints(sig: inspect.Signature, name: str) -> dict[str, TypeHint]:
    hints: dict[str, TypeHint] = {}
    for pname, param in sig.parameters.items():
        if param.annotation is not _EMPTY:
            hints[pname] = param.annotation
    if sig.return_annotation is not _EMPTY:
        hints["return"] = sig.return_annotation
    for pname, hint in hints.items():
        if isinstance(hint, str):
            where = "" if pname == "return" else pname
            raise InterfaceError(name, where, f"a string annotation {hint!r} cannot be resolved")
    return hints


def extract_interface(
    fn: Callable[..., object] | inspect.Signature, *, name: str = "", doc: str | None = None
) -> PythonInterface:
    """The :class:`PythonInterface` of a function (or of an ``inspect.Signature``, whose
    annotations must be real types, named ``name`` and described by ``doc``).

    Every parameter needs a type hint; ``*args``/``**kwargs`` are not allowed (an interface has
    a fixed set of names). Raises :class:`InterfaceError`.
    """
    if isinstance(fn, inspect.Signature):
        sig = fn
        name = name or "signature"
        hints = _signature_hints(sig, name)
    else:
        name = name or getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except NameError as exc:
            raise InterfaceError(name, "", f"a type hint cannot be resolved: {exc}") from exc
        sig = inspect.signature(fn)
        doc = inspect.getdoc(fn) if doc is None else doc
    inputs: dict[str, TypeHint] = {}
    defaults: dict[str, object] = {}
    for pname, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InterfaceError(name, pname, "*args and **kwargs cannot be task inputs")
        if pname not in hints:
            raise InterfaceError(name, pname, "has no type hint; every input needs one")
        inputs[pname] = hints[pname]
        if param.default is not _EMPTY:
            defaults[pname] = param.default
    ret = hints.get("return", _EMPTY)
    if ret is None:
        ret = type(None)
    outputs, output_tuple = _outputs(name, ret)
    parsed = parse_docstring(doc)
    out_docs = {k: v for k, v in parsed.returns.items() if k in outputs}
    if len(outputs) == 1 and not out_docs:
        text = parsed.returns.get("") or (
            next(iter(parsed.returns.values())) if len(parsed.returns) == 1 else ""
        )
        if text:
            out_docs = {next(iter(outputs)): text}
    return PythonInterface(
        name=name,
        inputs=inputs,
        outputs=outputs,
        defaults=defaults,
        input_descriptions={k: v for k, v in parsed.params.items() if k in inputs},
        output_descriptions=out_docs,
        output_tuple=output_tuple,
        docstring=parsed.summary,
    )
