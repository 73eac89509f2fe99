"""Helpers over Python type hints (``list[int]``, ``Optional[X]``, ``Annotated[T, ...]``)."""

from __future__ import annotations

import types
import typing
from typing import Annotated, TypeAlias, Union, get_args, get_origin

#: A Python type hint: a class, or a typing construct such as ``list[int]`` or ``int | None``.
#: Typed as ``object`` because typing constructs are not ``type`` instances.
TypeHint: TypeAlias = object


def strip_annotated(hint: TypeHint) -> tuple[TypeHint, tuple[object, ...]]:
    """``Annotated[T, a, b]`` → ``(T, (a, b))``; any other hint → ``(hint, ())``."""
    if get_origin(hint) is Annotated:
        inner, *extra = get_args(hint)
        return inner, tuple(extra)
    return hint, ()


def is_union(hint: TypeHint) -> bool:
    """True for ``Union[...]``, ``Optional[...]`` and ``A | B``."""
    origin = get_origin(hint)
    return origin is Union or origin is types.UnionType


def type_name(hint: TypeHint) -> str:
    """A short, author-facing name: ``int``, ``list[MyConfig]``, ``int | None``."""
    hint, _ = strip_annotated(hint)
    if hint is type(None) or hint is None:
        return "None"
    if is_union(hint):
        return " | ".join(type_name(a) for a in get_args(hint))
    origin = get_origin(hint)
    if origin is not None:
        args = get_args(hint)
        base = getattr(origin, "__name__", str(origin))
        return f"{base}[{', '.join(type_name(a) for a in args)}]" if args else base
    if hint is typing.Any:
        return "Any"
    name = getattr(hint, "__name__", None)
    return name if isinstance(name, str) else str(hint)


def qualified_name(cls: type) -> str:
    """``module.QualName`` of a class, stored in literal-type metadata."""
    return f"{cls.__module__}.{cls.__qualname__}"
