"""The extension point: one :class:`TypeTransformer` per family of Python types."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, Protocol, TypeVar

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint
from skyloom_idl.core import literals_pb2, types_pb2

T = TypeVar("T")

Literal = literals_pb2.Literal
LiteralType = types_pb2.LiteralType


class TypeTransformer(ABC, Generic[T]):
    """Converts values of some Python types to literals and back.

    Contract:
    - ``name`` is unique in an engine; registering another transformer under the same name
      replaces it only with ``override=True``.
    - :meth:`matches` is pure and cheap; the engine caches its answer per hint. It receives the
      hint as written (including ``Annotated[...]``); a transformer that does not match an
      ``Annotated`` hint is asked again with the inner type.
    - :meth:`to_literal` raises :class:`TypeTransformerError` when the value does not fit
      (never a bare ``TypeError``/``ValueError``), so unions can try the next variant and errors
      carry a path. It may upload raw data through ``ctx.store``.
    - :meth:`to_python` raises :class:`TypeTransformerError` when the literal does not fit.
      It may return lazy values (files download on first access).
    - :meth:`guess_python_type` rebuilds a usable hint from a literal type (for references to
      remote entities); it raises :class:`TypeTransformerError` when it cannot.
    """

    #: Unique within an engine; set as a class attribute (or in ``__init__``).
    name: str

    @abstractmethod
    def matches(self, python_type: TypeHint) -> bool:
        """Whether this transformer handles ``python_type``."""

    @abstractmethod
    def get_literal_type(self, python_type: TypeHint) -> LiteralType:
        """The literal type that values of ``python_type`` are stored as."""

    @abstractmethod
    def to_literal(self, value: T, python_type: TypeHint, ctx: TransferContext) -> Literal:
        """Encode ``value`` (declared as ``python_type``)."""

    @abstractmethod
    def to_python(self, literal: Literal, python_type: TypeHint, ctx: TransferContext) -> T:
        """Decode ``literal`` into a value of ``python_type``."""

    def matches_literal_type(self, literal_type: LiteralType) -> bool:
        """Whether :meth:`guess_python_type` can handle ``literal_type``; default: no."""
        return False

    def guess_python_type(self, literal_type: LiteralType) -> TypeHint:
        """A Python hint for ``literal_type``; default: unsupported."""
        raise TypeTransformerError(
            self.name, f"literal type {literal_type.WhichOneof('type')} it cannot guess"
        )


class Converter(Protocol):
    """The part of the engine that container transformers recurse through."""

    def literal_type(self, python_type: TypeHint) -> LiteralType: ...

    def to_literal(self, value: object, python_type: TypeHint, ctx: TransferContext) -> Literal: ...

    def to_python(
        self, literal: Literal, python_type: TypeHint, ctx: TransferContext
    ) -> object: ...

    def guess_python_type(self, literal_type: LiteralType) -> TypeHint: ...

    def transformer_for(self, python_type: TypeHint) -> TypeTransformer[Any]: ...
