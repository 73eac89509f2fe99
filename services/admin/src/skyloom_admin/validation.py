"""Small validation helpers shared by the admin areas (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from skyloom_common.errors import FieldViolation
from skyloom_core.errors import Violation

__all__ = ["check_labels", "check_text", "violations_of"]

_LABEL_KEY = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.\-/]{0,61}[A-Za-z0-9])?\Z")
_MAX_LABEL_VALUE = 256


def violations_of(found: Iterable[Violation]) -> list[FieldViolation]:
    """skyloom_core findings as the runtime's field violations."""
    return [FieldViolation(v.field_path, v.message) for v in found]


def check_text(value: str, path: str, *, limit: int = 1024) -> list[FieldViolation]:
    """Free text: bounded, no control characters other than newline and tab."""
    if len(value) > limit:
        return [FieldViolation(path, f"is {len(value)} characters long, over {limit}")]
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in value):
        return [FieldViolation(path, "contains a control character")]
    return []


def check_labels(labels: Mapping[str, str], path: str) -> list[FieldViolation]:
    """Label keys like Kubernetes label keys, values bounded printable text."""
    out: list[FieldViolation] = []
    for key in sorted(labels):
        where = f'{path}.values["{key}"]' if _LABEL_KEY.match(key) else f"{path}.values"
        if not _LABEL_KEY.match(key):
            out.append(FieldViolation(where, f"invalid label key {key!r}"))
            continue
        out += check_text(labels[key], where, limit=_MAX_LABEL_VALUE)
    return out
