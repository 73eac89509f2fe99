"""The :class:`TypeEngine`: an explicit registry of transformers plus conversions over maps."""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from skyloom.types.context import TransferContext
from skyloom.types.errors import RegistrationError, TypeTransformerError
from skyloom.types.hints import TypeHint, strip_annotated, type_name
from skyloom.types.interface import PythonInterface, extract_interface
from skyloom.types.transformer import TypeTransformer
from skyloom_idl.core import interface_pb2, literals_pb2, types_pb2

T = TypeVar("T")

_Transformer = TypeTransformer[Any]


class TypeEngine:
    """Finds the transformer for a Python type and converts values and literal maps.

    Lookup order: the most recently registered transformer first, so a user's transformer wins
    over a built-in one for the same type. A hint no transformer matches goes to ``fallback``
    (the pickle transformer in :func:`~skyloom.types.builtins.new_engine`), with a
    ``UserWarning`` the first time each type is seen; with no fallback it is an error.
    The engine is not thread-safe for :meth:`register`; register at start-up, convert anywhere.
    """

    def __init__(self, *, fallback: TypeTransformer[Any] | None = None) -> None:
        self._transformers: list[_Transformer] = []
        self._fallback = fallback
        self._cache: dict[object, _Transformer] = {}
        self._types: dict[object, types_pb2.LiteralType] = {}

    @property
    def transformers(self) -> tuple[TypeTransformer[Any], ...]:
        """Registered transformers in lookup order (most recent first)."""
        return tuple(self._transformers)

    def register(self, transformer: TypeTransformer[T], *, override: bool = False) -> None:
        """Add ``transformer`` ahead of every transformer registered before it.

        Raises :class:`RegistrationError` if its name is taken and ``override`` is false; with
        ``override`` the old one is removed.
        """
        existing = [t for t in self._transformers if t.name == transformer.name]
        if existing and not override:
            raise RegistrationError(transformer.name)
        self._transformers = [t for t in self._transformers if t.name != transformer.name]
        self._transformers.insert(0, transformer)
        self._cache.clear()
        self._types.clear()

    def transformer_for(self, python_type: TypeHint) -> TypeTransformer[Any]:
        """The transformer for ``python_type`` (see the class docstring for the order)."""
        try:
            return self._cache[python_type]
        except (KeyError, TypeError):  # TypeError: Annotated with unhashable metadata
            pass
        found = self._find(python_type)
        with contextlib.suppress(TypeError):
            self._cache[python_type] = found
        return found

    def _find(self, python_type: TypeHint) -> _Transformer:
        for transformer in self._transformers:
            if transformer.matches(python_type):
                return transformer
        inner, extras = strip_annotated(python_type)
        if extras:
            return self.transformer_for(inner)
        if self._fallback is None:
            raise TypeTransformerError(
                "a type with a registered transformer", f"{type_name(python_type)}"
            )
        warnings.warn(
            f"no transformer for {type_name(python_type)}: its values are pickled, which ties "
            "them to this Python version and class layout and hides them from type checks. "
            "Register one with skyloom.types.register(MyTransformer()).",
            UserWarning,
            stacklevel=4,
        )
        return self._fallback

    def _dispatch(self, python_type: TypeHint) -> tuple[_Transformer, TypeHint]:
        """The transformer and the hint it should see (``Annotated`` stripped unless claimed)."""
        transformer = self.transformer_for(python_type)
        hint = python_type
        while not transformer.matches(hint):
            inner, extras = strip_annotated(hint)
            if not extras:
                break
            hint = inner
        return transformer, hint

    def literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        """The literal type of ``python_type`` (a new message each call: callers may modify it).

        Cached per hashable hint until the next :meth:`register`.
        """
        out = types_pb2.LiteralType()
        try:
            out.CopyFrom(self._types[python_type])
            return out
        except (KeyError, TypeError):
            pass
        transformer, hint = self._dispatch(python_type)
        computed = transformer.get_literal_type(hint)
        with contextlib.suppress(TypeError):
            self._types[python_type] = computed
        out.CopyFrom(computed)
        return out

    def to_literal(
        self, value: object, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        """Encode ``value`` as ``python_type``; :class:`TypeTransformerError` if it does not fit."""
        transformer, hint = self._dispatch(python_type)
        return transformer.to_literal(value, hint, ctx)

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> object:
        """Decode ``literal`` as ``python_type``."""
        transformer, hint = self._dispatch(python_type)
        return transformer.to_python(literal, hint, ctx)

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        """A Python hint for a literal type (for references to remote entities)."""
        for transformer in self._transformers:
            if transformer.matches_literal_type(literal_type):
                return transformer.guess_python_type(literal_type)
        if self._fallback is not None and self._fallback.matches_literal_type(literal_type):
            return self._fallback.guess_python_type(literal_type)
        raise TypeTransformerError(
            "a literal type some transformer can read", str(literal_type.WhichOneof("type"))
        )

    def literal_map(
        self,
        values: Mapping[str, object],
        types: Mapping[str, TypeHint],
        ctx: TransferContext,
        *,
        kind: str = "input",
    ) -> literals_pb2.LiteralMap:
        """Encode named values; every name in ``types`` must be in ``values`` and vice versa.

        Errors name the variable: ``expected int for input 'scale', got str 'abc'``.
        """
        _check_names(values, types, kind)
        out = literals_pb2.LiteralMap()
        for name, hint in types.items():
            try:
                out.literals[name].CopyFrom(self.to_literal(values[name], hint, ctx))
            except TypeTransformerError as err:
                raise err.at_var(name, kind) from err
        return out

    def python_values(
        self,
        lm: literals_pb2.LiteralMap,
        types: Mapping[str, TypeHint],
        ctx: TransferContext,
        *,
        kind: str = "input",
    ) -> dict[str, object]:
        """Decode a literal map; names must match ``types`` exactly."""
        _check_names(lm.literals, types, kind)
        out: dict[str, object] = {}
        for name, hint in types.items():
            try:
                out[name] = self.to_python(lm.literals[name], hint, ctx)
            except TypeTransformerError as err:
                raise err.at_var(name, kind) from err
        return out

    def python_interface(self, fn: Callable[..., object] | inspect.Signature) -> PythonInterface:
        """The typed signature of ``fn`` (see :func:`skyloom.types.extract_interface`)."""
        return extract_interface(fn)

    def interface(
        self, fn_or_interface: Callable[..., object] | inspect.Signature | PythonInterface
    ) -> interface_pb2.TypedInterface:
        """The ``TypedInterface`` of a function, a signature, or an extracted interface."""
        py = (
            fn_or_interface
            if isinstance(fn_or_interface, PythonInterface)
            else extract_interface(fn_or_interface)
        )
        out = interface_pb2.TypedInterface()
        for target, hints, docs in (
            (out.inputs, py.inputs, py.input_descriptions),
            (out.outputs, py.outputs, py.output_descriptions),
        ):
            for name, hint in hints.items():
                var = target.variables[name]
                var.type.CopyFrom(self.literal_type(hint))
                var.description = docs.get(name, "")
                target.order.append(name)
        return out

    def parameter_map(
        self, py: PythonInterface, ctx: TransferContext
    ) -> interface_pb2.ParameterMap:
        """Inputs as launch-plan parameters: a default literal where the signature has one."""
        params = interface_pb2.ParameterMap()
        typed = self.interface(py)
        for name, hint in py.inputs.items():
            param = params.parameters[name]
            param.var.CopyFrom(typed.inputs.variables[name])
            if name in py.defaults:
                try:
                    param.default.CopyFrom(self.to_literal(py.defaults[name], hint, ctx))
                except TypeTransformerError as err:
                    raise err.at_var(name, "default of input") from err
            else:
                param.required = True
        return params


def _check_names(values: Mapping[str, object], types: Mapping[str, TypeHint], kind: str) -> None:
    missing = [n for n in types if n not in values]
    if missing:
        raise TypeTransformerError(
            f"a value for {kind} '{missing[0]}'", "nothing (missing)"
        ).at_var(missing[0], kind)
    extra = sorted(n for n in values if n not in types)
    if extra:
        expected = ", ".join(repr(n) for n in types) or "none"
        raise TypeTransformerError(f"{kind}s {expected}", f"unknown {kind} {extra[0]!r}")
