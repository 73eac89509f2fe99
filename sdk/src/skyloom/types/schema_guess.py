"""Python hints rebuilt from the JSON Schemas that :mod:`skyloom.types.schema` writes.

Used for references to remote entities, whose record classes may not exist locally: a record
becomes a new dataclass with the schema's title and fields, so values still decode and encode
to the same literals. A class named in ``python_class`` is used instead when its module is
already imported (guessing never imports modules).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import keyword
import sys
from collections.abc import Mapping

from skyloom.files import Directory, File
from skyloom.types.hints import TypeHint
from skyloom.types.jsonlit import JSON

_NONE = type(None)


def known_class(qualified: str) -> type | None:
    """The class ``module.Qual`` if its module is already imported."""
    module_name, _, qual = qualified.rpartition(".")
    obj: object = sys.modules.get(module_name)
    if obj is None:
        return None
    for part in qual.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def _union(hints: list[TypeHint]) -> TypeHint:
    out = hints[0]
    for hint in hints[1:]:
        out = out | hint  # type: ignore[operator]
    return out


def hint_from_schema(schema: Mapping[str, JSON], name: str = "Record") -> TypeHint:
    """A hint whose literal encoding matches ``schema`` (``object`` when nothing fits)."""
    if "anyOf" in schema and isinstance(schema["anyOf"], list):
        options = [o for o in schema["anyOf"] if isinstance(o, dict)]
        tagged = [o.get("properties", {}) for o in options]
        values = [t.get("value") if isinstance(t, dict) else None for t in tagged]
        if all(isinstance(v, dict) for v in values) and len(values) > 1:
            options = [v for v in values if isinstance(v, dict)]
        return _union([hint_from_schema(o, name) for o in options])
    blob = schema.get("x-skyloom-blob")
    if isinstance(blob, dict):
        base = Directory if blob.get("multipart") else File
        fmt = blob.get("format")
        return base.with_format(fmt) if isinstance(fmt, str) and fmt else base
    kind = schema.get("type")
    if kind == "null":
        return _NONE
    if kind == "integer":
        return int
    if kind == "number":
        return float
    if kind == "boolean":
        return bool
    if kind == "string":
        return _string_hint(schema, name)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return list[hint_from_schema(schema["items"], name)]  # type: ignore[arg-type, misc]
    if kind == "object":
        return _object_hint(schema, name)
    return object


def _string_hint(schema: Mapping[str, JSON], name: str) -> TypeHint:
    fmt = schema.get("format")
    if fmt == "date-time":
        return dt.datetime
    if fmt == "duration":
        return dt.timedelta
    if schema.get("contentEncoding") == "base64":
        return bytes
    values = schema.get("enum")
    if isinstance(values, list):
        return enum.Enum(f"{name}Enum", [(str(v), str(v)) for v in values])
    return str


def _object_hint(schema: Mapping[str, JSON], name: str) -> TypeHint:
    props = schema.get("properties")
    if isinstance(props, dict) and "x-skyloom-dataset" not in schema:
        title = str(schema.get("title") or name)
        required = schema.get("required")
        required_names = set(required) if isinstance(required, list) else set()
        fields: list[tuple[str, TypeHint, object]] = []
        optional: list[tuple[str, TypeHint, object]] = []
        for field_name, sub in props.items():
            if (
                not isinstance(sub, dict)
                or not field_name.isidentifier()
                or keyword.iskeyword(field_name)
            ):
                return object
            hint = hint_from_schema(sub, title + field_name.title().replace("_", ""))
            if field_name in required_names:
                fields.append((field_name, hint, dataclasses.field()))
            else:
                optional.append((field_name, hint | None, dataclasses.field(default=None)))  # type: ignore[operator]
        return dataclasses.make_dataclass(title, [*fields, *optional])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return dict[str, hint_from_schema(extra, name)]  # type: ignore[misc]
    return object
