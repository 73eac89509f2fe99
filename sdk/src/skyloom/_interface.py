"""Typed interfaces of tasks and workflows: the type engine's extraction, errors in the author's
terms (``task f (file.py:12): ...``)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from skyloom._engine import engine
from skyloom._errors import CompileError
from skyloom._source import object_location
from skyloom.types import InterfaceError, PythonInterface, extract_interface
from skyloom.types.hints import TypeHint, strip_annotated


def list_of(t: Any) -> Any:
    """``list[t]`` for a type known only at run time."""
    return types.GenericAlias(list, (t,))


def optional_of(t: Any) -> Any:
    """``t | None`` for a type known only at run time."""
    return typing.Union[t, None]  # noqa: UP007


def declared_interface(
    name: str, inputs: Mapping[str, Any], outputs: Mapping[str, Any]
) -> PythonInterface:
    """An interface given as name → type maps (references, map tasks): a call with several
    outputs returns a plain tuple."""
    return PythonInterface(
        name=name,
        inputs=dict(inputs),
        outputs=dict(outputs),
        output_tuple=tuple if len(outputs) > 1 else None,
    )


def _bare(hints: Mapping[str, TypeHint]) -> dict[str, TypeHint]:
    return {name: strip_annotated(t)[0] for name, t in hints.items()}


def interface_of(fn: Callable[..., Any], kind: str) -> PythonInterface:
    """``fn``'s interface; every input and the return need a type hint, and a transformer."""
    loc = object_location(fn)
    where = f"{kind} {fn.__name__} ({loc})"
    try:
        py = extract_interface(fn)
    except InterfaceError as err:
        what = f"input '{err.param}': " if err.param else ""
        raise CompileError(f"{where}: {what}{err.reason}", location=loc) from err
    # Node binding, promises and CLI flags dispatch on bare hints (``get_origin(t) is list``,
    # ``t is bool``), so Annotated extras stay out of task interfaces, as they always have.
    py = dataclasses.replace(py, inputs=_bare(py.inputs), outputs=_bare(py.outputs))
    eng = engine()
    for name, t in {**py.inputs, **py.outputs}.items():
        try:
            eng.literal_type(t)
        except (TypeError, ValueError) as err:
            raise CompileError(
                f"{where}: '{name}' has an unsupported type: {err}", location=loc
            ) from err
    return py
