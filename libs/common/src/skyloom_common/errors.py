"""The domain error tree every Skyloom manager raises.

Managers and repositories raise these; they never import ``grpc``. Exactly one place, the
error-mapping interceptor in :mod:`skyloom_common.rpc.status`, turns them into gRPC status codes
(with ``google.rpc.BadRequest`` / ``ErrorInfo`` / ``RetryInfo`` rich details), and
:func:`skyloom_common.rpc.status.error_from_status` turns them back on the client side.

    SkyloomError                  base; carries ``code``, ``retryable``, ``reason``, ``metadata``
    ├── InvalidArgument           bad input; ``violations`` lists every (field path, description)
    │   └── ConfigError           a settings file or environment variable is invalid
    ├── NotFound                  the addressed entity does not exist
    ├── AlreadyExists             the entity exists (with different content: ``diff`` says how)
    ├── FailedPrecondition        the request is valid but the system state forbids it
    ├── Aborted                   a concurrent write won (stale epoch, lost race); retry the read
    ├── PermissionDenied          the caller is known but not allowed to do this
    ├── Unauthenticated           the caller could not be identified
    ├── ResourceExhausted         a quota or a limit is hit; may carry ``retry_after``
    └── Unavailable               a dependency is down; retryable, may carry ``retry_after``

Anything raised that is not a :class:`SkyloomError` is a bug: the runtime answers it with
``INTERNAL`` and a generic message plus an error id, and logs the traceback under that id.

``code`` names a gRPC status code by its canonical name, as a plain string enum, so this module
stays free of transport imports. ``retryable`` tells a caller whether repeating the same request
unchanged may succeed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "Aborted",
    "AlreadyExists",
    "ConfigError",
    "ErrorCode",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "SkyloomError",
    "Unauthenticated",
    "Unavailable",
]


class ErrorCode(enum.StrEnum):
    """The gRPC status code an error is answered with, by canonical name."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    ABORTED = "ABORTED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One problem with one field of a request.

    ``field`` is a path into the request message in the ``google.rpc.BadRequest`` style:
    dotted field names with ``[i]`` indexes, e.g. ``workflow.nodes[2].upstream_node_ids[0]``.
    An empty path means the request as a whole.
    """

    field: str
    description: str


class SkyloomError(Exception):
    """Base of every domain error.

    ``reason`` is a stable UPPER_SNAKE identifier a client may branch on (it travels as
    ``google.rpc.ErrorInfo.reason``), ``metadata`` small string facts that go with it
    (e.g. ``{"current_phase": "SUCCEEDED"}``). ``message`` is for humans and may change.
    """

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retryable = self.default_retryable if retryable is None else retryable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidArgument(SkyloomError):
    """The request is malformed; ``violations`` lists every problem found, each with its path.

    Validators should collect all violations and raise once, so an author fixes everything in
    one round trip.
    """

    code = ErrorCode.INVALID_ARGUMENT

    def __init__(
        self,
        message: str,
        *,
        violations: Iterable[FieldViolation] = (),
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata, retryable=False)
        self.violations: tuple[FieldViolation, ...] = tuple(violations)

    @classmethod
    def for_field(cls, field: str, description: str) -> InvalidArgument:
        """One violation; the message is ``"<field>: <description>"``."""
        label = field or "request"
        return cls(f"{label}: {description}", violations=[FieldViolation(field, description)])

    @property
    def field_paths(self) -> tuple[str, ...]:
        """The paths of all violations, in the order they were found."""
        return tuple(v.field for v in self.violations)


class ConfigError(InvalidArgument):
    """Settings could not be loaded; each violation's field is the settings path (``grpc.port``)."""


class NotFound(SkyloomError):
    """The addressed entity does not exist. ``resource`` names it (e.g. ``execution:p/d/name``)."""

    code = ErrorCode.NOT_FOUND

    def __init__(
        self,
        message: str,
        *,
        resource: str | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.resource = resource


class AlreadyExists(SkyloomError):
    """The entity exists. ``diff`` is a readable description of how the stored one differs
    from the one sent (``None`` when the content is identical, e.g. a repeated event).
    The diff is appended to the message, so clients that only show the message still see it.
    """

    code = ErrorCode.ALREADY_EXISTS

    def __init__(
        self,
        message: str,
        *,
        diff: str | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        full = f"{message}\n{diff}" if diff else message
        super().__init__(full, reason=reason, metadata=metadata)
        self.diff = diff


class FailedPrecondition(SkyloomError):
    """The request is valid, but the current state forbids it (e.g. an event after a terminal
    phase: ``reason="ALREADY_IN_TERMINAL_STATE"``, ``metadata={"current_phase": ...}``)."""

    code = ErrorCode.FAILED_PRECONDITION


class Aborted(SkyloomError):
    """A concurrent writer won (stale fencing epoch, optimistic-lock conflict). Re-read, retry."""

    code = ErrorCode.ABORTED
    default_retryable = True


class PermissionDenied(SkyloomError):
    """The caller is authenticated but not allowed to perform this action."""

    code = ErrorCode.PERMISSION_DENIED


class Unauthenticated(SkyloomError):
    """The caller sent no credentials, or credentials that do not identify anyone."""

    code = ErrorCode.UNAUTHENTICATED


class _RetryAfter(SkyloomError):
    """Shared shape of errors that may tell the caller how long to back off."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after = retry_after


class ResourceExhausted(_RetryAfter):
    """A quota or size limit is hit. Retryable only after the limit frees up."""

    code = ErrorCode.RESOURCE_EXHAUSTED
    default_retryable = True


class Unavailable(_RetryAfter):
    """A dependency (Postgres, NATS, the blob store) is unreachable. Always retryable."""

    code = ErrorCode.UNAVAILABLE
    default_retryable = True
