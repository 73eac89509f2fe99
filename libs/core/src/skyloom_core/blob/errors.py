"""Errors raised by the blob store. Every one is a :class:`BlobError`::

    BlobError                 uri, retryable
    ├── NotFound              the object (or bucket) does not exist
    ├── AlreadyExists         put_if_absent found different content under the key
    ├── Unavailable           storage unreachable, throttled or failing: retry with backoff
    ├── AccessDenied          credentials or permissions refused
    ├── InvalidKey            field, reason: a key, id or path is not acceptable (never retryable)
    ├── SignatureRejected     reason: a signed URL is malformed, tampered with or expired
    └── ConfigurationError    unknown scheme, missing ``skyloom-core[s3]`` extra, bad settings

``retryable`` is the one field callers branch on: only :class:`Unavailable` sets it.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "BlobError",
    "ConfigurationError",
    "InvalidKey",
    "NotFound",
    "SignatureRejected",
    "Unavailable",
]


class BlobError(Exception):
    """Base of every blob-store error. ``uri`` names the object concerned ("" when none)."""

    retryable: bool = False

    def __init__(self, message: str, *, uri: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.uri = uri


class NotFound(BlobError):
    """The object does not exist (also: its bucket does not exist)."""


class AlreadyExists(BlobError):
    """``put_if_absent`` found an object with different content; nothing was written."""


class Unavailable(BlobError):
    """The storage could not be reached or answered with a transient failure. Retry it."""

    retryable = True


class AccessDenied(BlobError):
    """The storage refused the credentials or the operation."""


class InvalidKey(BlobError):
    """A key, id or local path was rejected before any I/O.

    ``field`` names what was wrong in the caller's terms (``"node_id"``, ``"key"``,
    ``"path:sub/dir/file"``); ``reason`` says why (``"contains '..'"``).
    """

    def __init__(self, field: str, reason: str, *, value: str = "", uri: str = "") -> None:
        shown = f" {value!r}" if value else ""
        super().__init__(f"invalid {field}{shown}: {reason}", uri=uri)
        self.field = field
        self.reason = reason
        self.value = value


class SignatureRejected(BlobError):
    """A signed URL was refused.

    ``reason``: ``malformed``, ``bad-signature``, ``expired`` or ``content-mismatch``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"signed URL rejected: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason


class ConfigurationError(BlobError):
    """The store cannot be built or cannot do what was asked with its settings."""
