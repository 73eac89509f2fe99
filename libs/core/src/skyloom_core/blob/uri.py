"""Parse and join blob URIs. Pure functions.

Two schemes are understood:

- ``file:///absolute/dir[/more]`` — a local directory. The path is taken verbatim (no
  percent-decoding), must be absolute and free of ``..``, ``.``, empty segments, backslashes and
  control characters. ``file://host/...`` and relative forms are refused.
- ``s3://bucket[/prefix]`` — an S3 bucket (DNS-style name: 3–63 characters of lowercase letters,
  digits, ``.`` and ``-``) and an optional key prefix, which follows :func:`validate_key` rules.

A *base URI* is where a store is rooted; an object's URI is ``<base>/<key>``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from skyloom_core.blob.errors import InvalidKey
from skyloom_core.blob.keys import validate_key

__all__ = ["ParsedURI", "join_uri", "parse_uri"]

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")


@dataclass(frozen=True)
class ParsedURI:
    """``scheme`` is ``"file"`` or ``"s3"``; ``bucket`` is ``""`` for file; ``path`` has no
    trailing ``/`` (for file: the absolute directory; for s3: the key prefix, maybe ``""``)."""

    scheme: str
    bucket: str
    path: str

    def __str__(self) -> str:
        if self.scheme == "file":
            return f"file://{self.path}"
        return f"s3://{self.bucket}" + (f"/{self.path}" if self.path else "")


def parse_uri(uri: object, field: str = "uri") -> ParsedURI:
    """Parse a ``file://`` or ``s3://`` URI (see module docs); raise :class:`InvalidKey`."""
    if not isinstance(uri, str):
        raise InvalidKey(field, f"must be a string, not {type(uri).__name__}")
    if uri.startswith("file://"):
        return ParsedURI("file", "", _file_path(uri[len("file://") :], field))
    if uri.startswith("s3://"):
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IPV4.fullmatch(bucket):
            raise InvalidKey(field, "is not a valid S3 bucket name", value=bucket)
        prefix = prefix.rstrip("/")
        if prefix:
            validate_key(prefix, field)
        return ParsedURI("s3", bucket, prefix)
    scheme = uri.partition("://")[0] if "://" in uri else ""
    reason = f"unsupported scheme {scheme!r}" if scheme else "has no scheme (file:// or s3://)"
    raise InvalidKey(field, reason, value=uri[:80])


def join_uri(base_uri: str, key: str) -> str:
    """``<base_uri>/<key>`` after validating both."""
    base = parse_uri(base_uri, "base_uri")
    return f"{base}/{validate_key(key)}"


def _file_path(path: str, field: str) -> str:
    if not path.startswith("/"):
        raise InvalidKey(field, "file:// URI must be file:///absolute/path", value=path[:80])
    if "\\" in path:
        raise InvalidKey(field, "contains a backslash", value=path[:80])
    if any(unicodedata.category(c).startswith("C") for c in path):
        raise InvalidKey(field, "contains a control or format character", value=path[:80])
    trimmed = path.rstrip("/")
    if not trimmed:
        raise InvalidKey(field, "must not be the file-system root", value=path)
    for segment in trimmed[1:].split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(field, f"has a {segment or 'empty'!r} path segment", value=path[:80])
    return trimmed
