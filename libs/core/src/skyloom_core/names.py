"""Validation of the names that end up in URLs, database keys, blob paths and pod names.

Shared by admin (at the API) and the SDK (at decoration time) so both refuse the same things.

- project, domain, execution name: DNS-1123 labels (lowercase letters, digits, '-'; starting
  and ending alphanumeric); ≤63 characters (executions ≤63 too);
- entity names (tasks, workflows, launch plans): ASCII letters, digits, '_', '-', '.'; ≤255;
- versions: as names plus '+'; ≤128;
- node ids: ASCII letters, digits, '_', '-'; ≤63.

Everything rejects, with a specific message: control characters and NUL, bidi overrides
(U+202E...), any non-ASCII character (homoglyphs such as Cyrillic 'а'), '..', '/', '\\', '%',
a leading '.' or '-', and over-long values. Each function returns ``Violation``s, never raises.
"""

from __future__ import annotations

import re
import unicodedata

from skyloom_core.errors import Violation
from skyloom_idl.core import identifier_pb2

CODE = "InvalidName"
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")
_NAME = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_VERSION = re.compile(r"[A-Za-z0-9_.\-+]+\Z")
_NODE_ID = re.compile(r"[A-Za-z0-9_\-]+\Z")
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def _character_problems(value: str) -> str | None:
    """The first dangerous character problem of ``value``, in a readable sentence."""
    for ch in value:
        point = f"U+{ord(ch):04X}"
        if ch in _BIDI:
            return f"contains a bidirectional override character ({point})"
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp"):
            return f"contains a control or invisible character ({point})"
        if ord(ch) > 127:
            return f"contains non-ASCII character {ch!r} ({point}); only ASCII is allowed"
        if ch.isspace():
            return "contains whitespace"
    for bad, label in (("..", "'..'"), ("/", "'/'"), ("\\", "a backslash"), ("%", "'%'")):
        if bad in value:
            return f"contains {label}"
    return None


def _check(
    value: str,
    field: str,
    *,
    kind: str,
    max_len: int,
    pattern: re.Pattern[str],
    rule: str,
) -> list[Violation]:
    if not value:
        return [Violation(field, f"{kind} must not be empty", CODE)]
    problem = _character_problems(value)
    if problem is not None:
        return [Violation(field, f"{kind} {problem}", CODE)]
    out: list[Violation] = []
    if len(value) > max_len:
        out.append(
            Violation(
                field, f"{kind} is {len(value)} characters long, over the limit of {max_len}", CODE
            )
        )
    if value[0] in ".-":
        out.append(Violation(field, f"{kind} must not start with {value[0]!r}", CODE))
    elif not pattern.match(value):
        out.append(Violation(field, f"{kind} {value!r} is invalid: {rule}", CODE))
    return out


_DNS_RULE = "use lowercase letters, digits and '-', starting and ending with a letter or digit"


def validate_project(value: str, field: str = "project") -> list[Violation]:
    """A project id: a DNS-1123 label of at most 63 characters."""
    return _check(value, field, kind="project", max_len=63, pattern=_DNS_LABEL, rule=_DNS_RULE)


def validate_domain(value: str, field: str = "domain") -> list[Violation]:
    """A domain: a DNS-1123 label of at most 63 characters."""
    return _check(value, field, kind="domain", max_len=63, pattern=_DNS_LABEL, rule=_DNS_RULE)


def validate_execution_name(value: str, field: str = "name") -> list[Violation]:
    """An execution name: a DNS-1123 label of at most 63 characters."""
    return _check(
        value, field, kind="execution name", max_len=63, pattern=_DNS_LABEL, rule=_DNS_RULE
    )


def validate_name(value: str, field: str = "name") -> list[Violation]:
    """A task, workflow or launch plan name (e.g. ``my_pkg.flows.train``)."""
    rule = "use ASCII letters, digits, '_', '-' and '.'"
    return _check(value, field, kind="name", max_len=255, pattern=_NAME, rule=rule)


def validate_version(value: str, field: str = "version") -> list[Violation]:
    """An entity version (e.g. a git sha, ``v1.2.0``, ``1.0+local``)."""
    rule = "use ASCII letters, digits, '_', '-', '.' and '+'"
    return _check(value, field, kind="version", max_len=128, pattern=_VERSION, rule=rule)


def validate_node_id(value: str, field: str = "id") -> list[Violation]:
    """A node id inside a workflow (e.g. ``n0``, ``train-model``)."""
    rule = "use ASCII letters, digits, '_' and '-'"
    return _check(value, field, kind="node id", max_len=63, pattern=_NODE_ID, rule=rule)


def validate_identifier(
    identifier: identifier_pb2.Identifier, path: str = "id", *, require_version: bool = True
) -> list[Violation]:
    """All four parts of a registered entity's id, with paths like ``id.project``."""
    out = validate_project(identifier.project, f"{path}.project")
    out += validate_domain(identifier.domain, f"{path}.domain")
    out += validate_name(identifier.name, f"{path}.name")
    if require_version or identifier.version:
        out += validate_version(identifier.version, f"{path}.version")
    return out
