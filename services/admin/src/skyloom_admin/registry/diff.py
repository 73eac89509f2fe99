"""A readable difference between two versions of a registered entity: the field paths whose
values differ, in the request's own terms (``spec.template.interface.inputs...``)."""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

__all__ = ["describe_diff", "field_diff"]

_MAX_PATHS = 20


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def field_diff(old: Message, new: Message, path: str) -> list[str]:
    """Lines ``<path>: <old> -> <new>`` (or ``changed``/``added``/``removed``) for every
    differing leaf field, depth first in field-number order."""
    out: list[str] = []
    _walk(old, new, path, out)
    return out


def describe_diff(old: Message, new: Message, path: str) -> str:
    lines = field_diff(old, new, path)
    shown = lines[:_MAX_PATHS]
    if len(lines) > _MAX_PATHS:
        shown.append(f"... and {len(lines) - _MAX_PATHS} more differences")
    return "differs from the registered version at:\n  " + "\n  ".join(shown or [path])


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _walk(old: Message, new: Message, path: str, out: list[str]) -> None:
    fields = {f.name: f for f, _ in old.ListFields()} | {f.name: f for f, _ in new.ListFields()}
    for name in sorted(fields, key=lambda n: fields[n].number):
        fd = fields[name]
        where = _join(path, name)
        a, b = getattr(old, name), getattr(new, name)
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            _map(fd, a, b, where, out)
        elif fd.is_repeated:
            _repeated(fd, list(a), list(b), where, out)
        elif fd.type == FieldDescriptor.TYPE_MESSAGE:
            if old.HasField(name) != new.HasField(name):
                out.append(f"{where}: {'added' if new.HasField(name) else 'removed'}")
            elif a != b:
                _walk(a, b, where, out)
        elif a != b:
            out.append(f"{where}: {_short(a)} -> {_short(b)}")


def _repeated(
    fd: FieldDescriptor, a: list[object], b: list[object], where: str, out: list[str]
) -> None:
    for i in range(max(len(a), len(b))):
        item = f"{where}[{i}]"
        if i >= len(a):
            out.append(f"{item}: added")
        elif i >= len(b):
            out.append(f"{item}: removed")
        elif a[i] != b[i]:
            if fd.type == FieldDescriptor.TYPE_MESSAGE:
                left, right = a[i], b[i]
                assert isinstance(left, Message)
                assert isinstance(right, Message)
                _walk(left, right, item, out)
            else:
                out.append(f"{item}: {_short(a[i])} -> {_short(b[i])}")


def _map(fd: FieldDescriptor, a: object, b: object, where: str, out: list[str]) -> None:
    left = dict(a)  # type: ignore[call-overload]
    right = dict(b)  # type: ignore[call-overload]
    assert fd.message_type is not None
    value_fd = fd.message_type.fields_by_name["value"]
    for key in sorted(set(left) | set(right), key=str):
        item = f'{where}["{key}"]'
        if key not in left:
            out.append(f"{item}: added")
        elif key not in right:
            out.append(f"{item}: removed")
        elif left[key] != right[key]:
            if value_fd.type == FieldDescriptor.TYPE_MESSAGE:
                _walk(left[key], right[key], item, out)
            else:
                out.append(f"{item}: {_short(left[key])} -> {_short(right[key])}")
