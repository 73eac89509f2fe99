"""Interfaces from signatures: names, defaults, outputs, descriptions."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from skyloom.files import File
from skyloom.types import InterfaceError, TransferContext, TypeEngine, extract_interface
from skyloom_idl.core import types_pb2


class Stats(NamedTuple):
    mean: float
    n: int


def google(x: int, scale: float = 2.0, name: str = "n") -> Stats:
    """Compute stats.

    Args:
        x: the input value,
            continued on a second line.
        scale (float): multiplier.

    Returns:
        mean: the average.
        n: how many.
    """
    return Stats(x * scale, 1)


def numpy_style(a: int, b: list[str]) -> tuple[int, str]:
    """Numpy style.

    Parameters
    ----------
    a : int
        first number
    b : list of str
        some words

    Returns
    -------
    tuple
        a pair
    """
    return a, b[0]


def sphinx(path: File, flag: bool = False) -> int:
    """Sphinx style.

    :param path: where the data is
    :param flag: whether to
        do the thing
    :returns: a count
    """
    return 0


def nothing(a: int) -> None:
    """No outputs."""


def test_google_docstring_named_tuple(engine: TypeEngine) -> None:
    py = extract_interface(google)
    assert list(py.inputs) == ["x", "scale", "name"]
    assert py.defaults == {"scale": 2.0, "name": "n"}
    assert list(py.outputs) == ["mean", "n"]
    assert py.input_descriptions == {
        "x": "the input value, continued on a second line.",
        "scale": "multiplier.",
    }
    assert py.output_descriptions == {"mean": "the average.", "n": "how many."}
    typed = engine.interface(google)
    assert list(typed.inputs.order) == ["x", "scale", "name"]
    assert typed.inputs.variables["x"].type.simple == types_pb2.SIMPLE_TYPE_INTEGER
    assert typed.inputs.variables["scale"].description == "multiplier."
    assert typed.outputs.variables["n"].type.simple == types_pb2.SIMPLE_TYPE_INTEGER
    assert list(typed.outputs.order) == ["mean", "n"]


def test_numpy_docstring_tuple_outputs() -> None:
    py = extract_interface(numpy_style)
    assert py.input_descriptions == {"a": "first number", "b": "some words"}
    assert list(py.outputs) == ["o0", "o1"]
    assert py.outputs == {"o0": int, "o1": str}


def test_sphinx_docstring_single_output() -> None:
    py = extract_interface(sphinx)
    assert py.input_descriptions == {"path": "where the data is", "flag": "whether to do the thing"}
    assert py.outputs == {"o0": int}
    assert py.output_descriptions == {"o0": "a count"}
    assert py.docstring == "Sphinx style."


def test_none_return_has_no_outputs(engine: TypeEngine) -> None:
    assert extract_interface(nothing).outputs == {}
    assert len(engine.interface(nothing).outputs.variables) == 0


def test_output_values_and_pack() -> None:
    py = extract_interface(google)
    values = py.output_values(Stats(1.5, 2))
    assert values == {"mean": 1.5, "n": 2}
    packed = py.pack_outputs(values)
    assert isinstance(packed, Stats)
    assert packed == Stats(1.5, 2)
    pair = extract_interface(numpy_style)
    assert pair.pack_outputs(pair.output_values((1, "a"))) == (1, "a")
    single = extract_interface(sphinx)
    assert single.output_values(3) == {"o0": 3}
    with pytest.raises(InterfaceError, match="must return a tuple of 2 values"):
        pair.output_values((1, 2, 3))


def test_parameter_map_defaults(engine: TypeEngine, ctx: TransferContext) -> None:
    params = engine.parameter_map(extract_interface(google), ctx)
    assert params.parameters["x"].required
    assert params.parameters["scale"].default.scalar.primitive.float_value == 2.0
    assert params.parameters["name"].var.type.simple == types_pb2.SIMPLE_TYPE_STRING


def test_missing_hint_is_an_error() -> None:
    def bad(a, b: int) -> int:  # type: ignore[no-untyped-def]
        return b

    with pytest.raises(InterfaceError, match=r"parameter 'a' of .*bad: has no type hint"):
        extract_interface(bad)


def test_varargs_are_rejected() -> None:
    def bad(*args: int) -> int:
        return 0

    with pytest.raises(InterfaceError, match=r"\*args"):
        extract_interface(bad)


def test_numpy_sections_after_returns_are_ignored() -> None:
    def fn(a: int) -> int:
        """Do it.

        Parameters
        ----------
        a : int
            the a

        Returns
        -------
        int
            the answer

        Examples
        --------
        >>> fn(1)
        """
        return a

    py = extract_interface(fn)
    assert py.input_descriptions == {"a": "the a"}
    assert py.output_descriptions == {"o0": "the answer"}


def test_google_free_text_returns_and_other_sections() -> None:
    def fn(a: int) -> list[int]:
        """Do it.

        Args:
            a: the a

        Returns:
            The list of
            results.

        Raises:
            ValueError: never
        """
        return [a]

    py = extract_interface(fn)
    assert py.input_descriptions == {"a": "the a"}
    assert py.output_descriptions == {"o0": "The list of results."}


def test_interface_from_a_signature(engine: TypeEngine) -> None:
    import inspect

    sig = inspect.Signature(
        [
            inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=int),
            inspect.Parameter(
                "y", inspect.Parameter.KEYWORD_ONLY, annotation=list[str], default=["a"]
            ),
        ],
        return_annotation=Stats,
    )
    py = extract_interface(sig, name="ref", doc="Args:\n    x: the x")
    assert py.inputs == {"x": int, "y": list[str]}
    assert py.defaults == {"y": ["a"]}
    assert list(py.outputs) == ["mean", "n"]
    assert py.input_descriptions == {"x": "the x"}
    assert list(engine.interface(sig).inputs.order) == ["x", "y"]
    unresolved = inspect.Signature(
        [inspect.Parameter("z", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Nope")]
    )
    with pytest.raises(InterfaceError, match="parameter 'z' of ref: a string annotation"):
        extract_interface(unresolved, name="ref")


def test_google_section_right_after_returns() -> None:
    def fn(a: int) -> int:
        """Do it.

        Returns:
            the count
        Raises:
            ValueError: when a is negative
        """
        return a

    assert extract_interface(fn).output_descriptions == {"o0": "the count"}
