"""Values from text and JSON: what ``skyloom run wf.py:wf --x 3 --cfg '{"lr": 0.1}'`` needs.

:func:`parse_text` reads one command-line argument as the declared type:

- ``str``: the text as is; ``int``/``float``: Python literals; ``bool``: true/false, yes/no,
  1/0, on/off (any case);
- ``date``: ``2024-05-01``; ``datetime``: ISO 8601 (``2024-05-01``,
  ``2024-05-01T12:00:00+02:00``; naive means UTC);
  ``timedelta``: seconds (``90``, ``1.5``) or protobuf form (``"1.5s"``);
- an ``Enum``: a member's value; ``File``/``Directory``: a local path or a URI;
- anything else (lists, dicts, records, optionals, unions): JSON in the encoding of
  :mod:`skyloom.types.jsonlit`, e.g. ``[1, 2]``, ``{"lr": 0.1, "when": "2024-05-01T00:00:00Z"}``.
  Text that is not JSON is tried as a plain string for ``str`` variants of a union.

:func:`from_json`/:func:`to_json` convert whole values through the same JSON encoding.
Errors are :class:`TypeTransformerError` (``expected int, got text 'abc'``).
"""

from __future__ import annotations

import datetime as dt
import enum
import json

from skyloom.files import Directory, File
from skyloom.types.context import TransferContext
from skyloom.types.datetimes import to_utc
from skyloom.types.engine import TypeEngine
from skyloom.types.errors import TypeTransformerError, short_repr
from skyloom.types.hints import TypeHint, strip_annotated, type_name
from skyloom.types.jsonlit import JSON, json_to_literal, literal_to_json

_TRUE = {"true", "yes", "1", "on", "y", "t"}
_FALSE = {"false", "no", "0", "off", "n", "f"}


def from_json(engine: TypeEngine, data: JSON, hint: TypeHint, ctx: TransferContext) -> object:
    """The value of type ``hint`` whose JSON form is ``data``."""
    return engine.to_python(json_to_literal(data, engine.literal_type(hint)), hint, ctx)


def to_json(engine: TypeEngine, value: object, hint: TypeHint, ctx: TransferContext) -> JSON:
    """The JSON form of ``value`` (files are uploaded through ``ctx`` to get their URIs)."""
    return literal_to_json(engine.to_literal(value, hint, ctx), engine.literal_type(hint))


def _bad(hint: TypeHint, text: str) -> TypeTransformerError:
    return TypeTransformerError(type_name(hint), f"text {short_repr(text)}")


def _simple(text: str, hint: TypeHint) -> tuple[bool, object]:
    """(handled, value) for the types with a plain-text form."""
    if hint is str:
        return True, text
    if hint is bool:
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return True, low in _TRUE
        raise _bad(hint, text)
    try:
        if hint is int:
            return True, int(text)
        if hint is float:
            return True, float(text)
        if hint is dt.datetime:
            return True, to_utc(dt.datetime.fromisoformat(text))
        if hint is dt.date:
            return True, dt.date.fromisoformat(text)
        if hint is dt.timedelta:
            return True, dt.timedelta(seconds=float(text.removesuffix("s")))
    except ValueError as exc:
        raise _bad(hint, text) from exc
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        for member in hint:
            if str(member.value) == text or member.name == text:
                return True, member
        raise _bad(hint, text)
    if isinstance(hint, type) and issubclass(hint, (File, Directory)):
        return True, hint(text)
    return False, None


def parse_text(engine: TypeEngine, text: str, hint: TypeHint, ctx: TransferContext) -> object:
    """One command-line argument as a value of ``hint`` (rules in the module docstring)."""
    bare, _ = strip_annotated(hint)
    handled, value = _simple(text, bare)
    if handled:
        return value
    try:
        data: JSON = json.loads(text)
    except json.JSONDecodeError:
        data = text  # e.g. a plain string for Optional[str]
    try:
        return from_json(engine, data, hint, ctx)
    except TypeTransformerError as err:
        if data is text:
            raise _bad(hint, text) from err
        raise
