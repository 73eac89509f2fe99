"""Errors raised by the type engine.

Tree::

    SkyloomTypeError (TypeError)        base; never raised itself
    ├── TypeTransformerError            a value does not fit its declared type (has a path)
    ├── InterfaceError                  a function signature cannot become an interface
    └── RegistrationError               a transformer name is registered twice without override
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

_MAX_REPR = 60


def short_repr(value: object) -> str:
    """A value's repr cut to a length that fits in one error line."""
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


class SkyloomTypeError(TypeError):
    """Base of every error raised by :mod:`skyloom.types`."""


@dataclass(frozen=True)
class ErrorPath:
    """Where inside a value an error happened, rendered like ``xs[3].lr``.

    ``var`` is the input or output name; ``kind`` is ``"input"``/``"output"`` or empty.
    """

    var: str = ""
    kind: str = ""
    steps: tuple[str, ...] = field(default_factory=tuple)

    def render(self) -> str:
        return self.var + "".join(self.steps)


class TypeTransformerError(SkyloomTypeError):
    """A value (or literal) does not fit the declared type.

    Fields: ``python_type`` (name of the declared type), ``expected`` (what was expected, e.g.
    ``int``), ``got`` (the offending value's type and short repr), ``path`` (an :class:`ErrorPath`).
    Containers re-raise a child's error with a longer path via :meth:`at_index` and friends.
    """

    def __init__(
        self, expected: str, got: str, *, python_type: str = "", path: ErrorPath | None = None
    ) -> None:
        self.expected = expected
        self.got = got
        self.python_type = python_type or expected
        self.path = path or ErrorPath()
        super().__init__(self._message())

    @classmethod
    def for_value(cls, expected: str, value: object) -> TypeTransformerError:
        """``expected <expected>, got <type> <repr>`` for a Python value."""
        return cls(expected, f"{type(value).__name__} {short_repr(value)}")

    def _message(self) -> str:
        where = ""
        rendered = self.path.render()
        if self.path.kind and rendered:
            where = f" for {self.path.kind} '{rendered}'"
        elif rendered:
            where = f" at '{rendered}'"
        return f"expected {self.expected}{where}, got {self.got}"

    def _with(self, path: ErrorPath) -> TypeTransformerError:
        err = type(self)(self.expected, self.got, python_type=self.python_type, path=path)
        err.__cause__ = self.__cause__
        return err

    def at_index(self, index: int) -> TypeTransformerError:
        """The same error one list element further out."""
        return self._with(replace(self.path, steps=(f"[{index}]", *self.path.steps)))

    def at_key(self, key: str) -> TypeTransformerError:
        """The same error one dict value further out."""
        return self._with(replace(self.path, steps=(f"[{key!r}]", *self.path.steps)))

    def at_attr(self, name: str) -> TypeTransformerError:
        """The same error one dataclass/model field further out."""
        return self._with(replace(self.path, steps=(f".{name}", *self.path.steps)))

    def at_var(self, name: str, kind: str) -> TypeTransformerError:
        """The same error, attributed to an input or output variable."""
        return self._with(replace(self.path, var=name, kind=kind))


class InterfaceError(SkyloomTypeError):
    """A function's signature cannot be turned into a typed interface (``function``, ``param``)."""

    def __init__(self, function: str, param: str, reason: str) -> None:
        self.function = function
        self.param = param
        self.reason = reason
        where = f"parameter '{param}' of " if param else ""
        super().__init__(f"{where}{function}: {reason}")


class RegistrationError(SkyloomTypeError):
    """A transformer with the same ``name`` is already registered and ``override`` was not set."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"a transformer named {name!r} is already registered; pass override=True to replace it"
        )
