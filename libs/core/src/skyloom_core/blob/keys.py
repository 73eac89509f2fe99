"""Validated object keys and the per-attempt layout. Pure functions, no I/O.

A *key* names an object relative to a store's base URI: ``/``-separated segments, never empty,
``.`` or ``..``, no leading ``/``, no backslash, no control, format or unassigned Unicode
characters (NUL, U+202E, zero-width marks), each segment at most 255 UTF-8 bytes (a file-name
limit, so ``file://`` and ``s3://`` accept the same keys), the whole at most 1024 bytes (S3's
limit). Segments starting with :data:`RESERVED_PREFIX` belong to the ``file://`` store's
in-flight temporary files and are refused. Every store validates every key it is given *and*
every key it reads back from a listing, so a hostile object name (``../../etc/passwd``) never
reaches a local path.

*Ids* (project, domain, execution, node id, file name) are stricter: ASCII letters, digits,
``.``, ``_`` and ``-``, starting with a letter, digit or ``_``. ``%``, ``/``, ``\\``, homoglyphs
and bidi controls are out by construction. :class:`AttemptPath` builds the DESIGN layout
``<prefix>/<project>/<domain>/<execution>/<node-id>/<attempt>/<file>`` from ids it validated
itself, so a key is never assembled from an unchecked string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from skyloom_core.blob.errors import InvalidKey

__all__ = [
    "DECK_FILE",
    "ERROR_FILE",
    "INPUTS_FILE",
    "OUTPUTS_FILE",
    "RESERVED_PREFIX",
    "AttemptPath",
    "join_key",
    "validate_id",
    "validate_key",
    "validate_prefix",
]

INPUTS_FILE = "inputs.pb"
OUTPUTS_FILE = "outputs.pb"
ERROR_FILE = "error.pb"
DECK_FILE = "deck.html"

RESERVED_PREFIX = ".skyloom-tmp-"

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
MAX_ID_CHARS = 255

_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def validate_id(value: object, field: str) -> str:
    """Return ``value`` if it is a safe id for one path segment; else raise :class:`InvalidKey`.

    ``field`` is the caller's name for the value (``"node_id"``) and appears in the error.
    """
    if not isinstance(value, str):
        raise InvalidKey(field, f"must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidKey(field, "is empty")
    if len(value) > MAX_ID_CHARS:
        raise InvalidKey(field, f"longer than {MAX_ID_CHARS} characters", value=_clip(value))
    if value in (".", ".."):
        raise InvalidKey(field, "is a relative path component", value=value)
    if not _ID.fullmatch(value):
        bad = next((c for c in value if not (c.isascii() and (c.isalnum() or c in "._-"))), "")
        reason = (
            f"contains {_describe(bad)}; allowed: ASCII letters, digits, '.', '_', '-'"
            if bad
            else "must start with a letter, digit or '_'"
        )
        raise InvalidKey(field, reason, value=_clip(value))
    return value


def validate_key(key: object, field: str = "key") -> str:
    """Return ``key`` if it is a valid relative object key (see module docs); else raise."""
    if not isinstance(key, str):
        raise InvalidKey(field, f"must be a string, not {type(key).__name__}")
    if not key:
        raise InvalidKey(field, "is empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(field, f"longer than {MAX_KEY_BYTES} bytes", value=_clip(key))
    if key.startswith("/"):
        raise InvalidKey(field, "is an absolute path", value=_clip(key))
    if "\\" in key:
        raise InvalidKey(field, "contains a backslash", value=_clip(key))
    for char in key:
        if unicodedata.category(char).startswith("C"):
            raise InvalidKey(field, f"contains {_describe(char)}", value=_clip(key))
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(field, "has an empty path segment", value=_clip(key))
        if segment in (".", ".."):
            raise InvalidKey(field, f"contains a {segment!r} path segment", value=_clip(key))
        if segment.startswith(RESERVED_PREFIX):
            raise InvalidKey(
                field, f"segment starts with reserved {RESERVED_PREFIX!r}", value=_clip(key)
            )
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(
                field, f"segment longer than {MAX_SEGMENT_BYTES} bytes", value=_clip(key)
            )
    return key


def validate_prefix(prefix: object, field: str = "prefix") -> str:
    """Like :func:`validate_key`, but ``""`` (everything) and one trailing ``/`` are allowed."""
    if prefix == "":
        return ""
    if isinstance(prefix, str) and prefix.endswith("/"):
        validate_key(prefix[:-1], field)
        return prefix
    return validate_key(prefix, field)


def join_key(*parts: str) -> str:
    """Join validated keys or prefixes with ``/``, skipping empty ones; validates the result."""
    joined = "/".join(p.strip("/") for p in parts if p.strip("/"))
    return validate_key(joined)


@dataclass(frozen=True)
class AttemptPath:
    """Where one node attempt keeps its files: ``<project>/<domain>/<execution>/<node>/<attempt>``.

    All fields are validated at construction (:class:`InvalidKey` names the bad field), so an
    instance is proof that :meth:`key` and :meth:`uri` cannot escape the layout.
    """

    project: str
    domain: str
    execution: str
    node_id: str
    attempt: int

    def __post_init__(self) -> None:
        for name in ("project", "domain", "execution", "node_id"):
            validate_id(getattr(self, name), name)
        if isinstance(self.attempt, bool) or not isinstance(self.attempt, int):
            raise InvalidKey("attempt", f"must be an int, not {type(self.attempt).__name__}")
        if self.attempt < 0:
            raise InvalidKey("attempt", "must be >= 0", value=str(self.attempt))

    @property
    def prefix(self) -> str:
        """The attempt's key prefix (no trailing ``/``)."""
        parts = (self.project, self.domain, self.execution, self.node_id, str(self.attempt))
        return "/".join(parts)

    def key(self, file: str) -> str:
        """The key of ``file`` (e.g. :data:`INPUTS_FILE`) inside this attempt."""
        return f"{self.prefix}/{validate_id(file, 'file')}"

    def uri(self, base_uri: str, file: str) -> str:
        """``<base_uri>/<project>/.../<attempt>/<file>``; ``base_uri`` is a store's base URI."""
        from skyloom_core.blob.uri import join_uri

        return join_uri(base_uri, self.key(file))


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def _clip(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
