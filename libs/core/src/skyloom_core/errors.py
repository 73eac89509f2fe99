"""The errors of skyloom_core, and the plain-data findings they carry.

Validation functions return findings as data (`Violation`, `CompileError`) so a caller can
report every problem at once; the exceptions below wrap those lists for callers that want to
raise. Every exception carries fields, not just a string::

    SkyloomCoreError(message)
    ├── ValidationFailed(violations)          bad value, input map or name
    ├── CompilationFailed(errors)             a workflow or dynamic job does not compile
    ├── CacheKeyError(message)                a task cannot be memoized as configured
    └── InvalidIdentifier(message, field_path)   an id string cannot be parsed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with a value, at a field path such as ``inputs.xs[3]`` or ``id.project``.

    ``code`` is a short machine-readable kind (``MismatchingTypes``, ``MissingInput``...);
    ``message`` is written for the author and already names the field.
    """

    field_path: str
    message: str
    code: str = "InvalidValue"

    def __str__(self) -> str:
        return f"{self.field_path}: {self.message}"


@dataclass(frozen=True, slots=True)
class CompileError:
    """One reason a workflow does not compile.

    ``field_path`` is a proto-style path into the template (``nodes[2].inputs[0].binding.promise``);
    ``node_id`` names the node at fault ("" for workflow-level problems); ``source_location`` is
    copied from the node's (or else the workflow's) metadata so the SDK can print ``wf.py:12``.
    """

    code: str
    message: str
    node_id: str = ""
    field_path: str = ""
    source_location: str = ""

    def __str__(self) -> str:
        where = f"{self.source_location}: " if self.source_location else ""
        return f"{where}[{self.code}] {self.message}"


class SkyloomCoreError(Exception):
    """Base of every error raised by skyloom_core."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(SkyloomCoreError):
    """A value, input map or name broke one or more rules; ``violations`` lists them all."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        lines = "\n".join(f"  {v}" for v in self.violations)
        super().__init__(f"{len(self.violations)} violation(s):\n{lines}")


class CompilationFailed(SkyloomCoreError):
    """A workflow (or dynamic job) failed to compile; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[CompileError]) -> None:
        self.errors: tuple[CompileError, ...] = tuple(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"workflow failed to compile with {len(self.errors)} error(s):\n{lines}")


class CacheKeyError(SkyloomCoreError):
    """The task's cache settings cannot produce a cache key (e.g. no cache version)."""


class InvalidIdentifier(SkyloomCoreError):
    """An id string (such as an ``id_key``) could not be parsed."""

    def __init__(self, message: str, field_path: str = "") -> None:
        super().__init__(message)
        self.field_path = field_path
