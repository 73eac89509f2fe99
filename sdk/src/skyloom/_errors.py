"""The SDK's exceptions.

SkyloomError
├── CompileError          a task, workflow or launch plan is wrong; raised at definition time
├── RetryableError        raised (or used to wrap) by authors: this user error may succeed on retry
└── ExecutionError        a local run failed; ``__cause__`` holds the author's exception
    └── TaskTimeoutError  an attempt ran past the task's timeout
"""

from __future__ import annotations


class SkyloomError(Exception):
    """Base of every SDK error."""


class CompileError(SkyloomError):
    """A definition is invalid. ``location`` is the author's ``file:line``."""

    def __init__(
        self, message: str, *, location: str = "", code: str = "", node_id: str = ""
    ) -> None:
        super().__init__(message)
        self.location = location
        self.code = code
        self.node_id = node_id


class RetryableError(SkyloomError):
    """Raise this (or ``raise RetryableError(...) from err``) to mark a user error retryable."""


class ExecutionError(SkyloomError):
    """A local execution failed. Fields say where; ``__cause__`` is the original exception."""

    def __init__(
        self,
        message: str,
        *,
        node_id: str = "",
        code: str = "",
        kind: str = "USER",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.node_id = node_id
        self.code = code
        self.kind = kind
        self.retryable = retryable


class TaskTimeoutError(ExecutionError):
    """An attempt ran longer than the task's timeout (a retryable user error, as remotely)."""
