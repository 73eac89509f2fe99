"""Each compile error the SDK reports names the author's file:line, the node and the input."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest

from skyloom import CompileError, conditional, map_task, task, workflow

from ._helpers import source_line


@task
def load(n: int) -> str:
    return str(n)


@task
def clean(df: str, scale: int) -> str:
    return df * scale


@task
def nothing() -> None:
    return None


@dataclass
class Point:
    x: int
    y: int


@task
def point() -> Point:
    return Point(1, 2)


def test_type_mismatch_from_upstream_output_names_line_node_and_input() -> None:
    with pytest.raises(CompileError) as info:

        @workflow
        def pipeline(n: int) -> str:
            raw = load(n=n)
            return clean(df=raw, scale=load(n=n))  # MARK-1

    err = info.value
    assert "MARK-1" in source_line(err)
    assert str(err) == (
        f"pipeline ({err.location}): input 'scale' of clean expects int, got str from load.o0"
    )
    assert err.code == "MismatchingTypes"


def test_type_mismatch_from_a_constant() -> None:
    with pytest.raises(
        CompileError, match=r"input 'scale' of clean expects int, got str value 'x'"
    ) as info:

        @workflow
        def wf() -> str:
            return clean(df="a", scale="x")  # MARK-2

    assert "MARK-2" in source_line(info.value)


def test_unknown_input() -> None:
    with pytest.raises(
        CompileError, match=r"task clean has no input 'scal' \(inputs: df, scale\)"
    ) as info:

        @workflow
        def wf() -> str:
            return clean(df="a", scal=2)  # type: ignore[call-arg]  # MARK-3

    assert "MARK-3" in source_line(info.value)


def test_input_not_bound() -> None:
    with pytest.raises(CompileError, match=r"input 'scale' of clean is not bound") as info:

        @workflow
        def wf() -> str:
            return clean(df="a")  # type: ignore[call-arg]  # MARK-4

    assert "MARK-4" in source_line(info.value)
    assert info.value.code == "ParameterNotBound"


def test_input_bound_twice() -> None:
    with pytest.raises(CompileError, match=r"input 'df' of clean is given twice") as info:

        @workflow
        def wf() -> str:
            return clean("a", df="b", scale=1)  # type: ignore[misc]  # MARK-5

    assert "MARK-5" in source_line(info.value)


def test_too_many_positional_arguments() -> None:
    with pytest.raises(CompileError, match=r"task clean takes 2 inputs, got 3") as info:

        @workflow
        def wf() -> str:
            return clean("a", 1, 2)  # type: ignore[call-arg]  # MARK-6

    assert "MARK-6" in source_line(info.value)


def test_wrong_number_of_workflow_outputs() -> None:
    with pytest.raises(CompileError, match=r"declares 2 outputs \(o0, o1\) but returns 1") as info:

        @workflow  # MARK-7
        def wf(n: int) -> tuple[str, str]:
            return load(n=n)  # type: ignore[return-value]

    assert "MARK-7" in source_line(info.value) or "def wf" in source_line(info.value)


def test_workflow_output_type_mismatch() -> None:
    with pytest.raises(
        CompileError, match=r"output 'o0' of workflow wf expects int, got str from load.o0"
    ) as info:

        @workflow  # MARK-8 (a workflow's outputs are reported at its definition)
        def wf(n: int) -> int:
            return load(n=n)  # type: ignore[return-value]

    assert "MARK-8" in source_line(info.value)


def test_binding_a_node_without_outputs() -> None:
    with pytest.raises(CompileError, match=r"bound to nothing, which has no outputs") as info:

        @workflow
        def wf() -> str:
            return clean(df=nothing(), scale=1)  # type: ignore[arg-type]  # MARK-9

    assert "MARK-9" in source_line(info.value)


def test_promise_used_as_a_bool() -> None:
    with pytest.raises(CompileError, match=r"load.o0 is a promise.*use conditional") as info:

        @workflow
        def wf(n: int) -> str:
            s = load(n=n)
            if s:  # MARK-10
                return s
            return s

    assert "MARK-10" in source_line(info.value)


def test_attribute_that_does_not_exist() -> None:
    with pytest.raises(CompileError, match=r"point.o0 \(Point\) has no field 'z'") as info:

        @workflow
        def wf() -> int:
            return point().z  # type: ignore[attr-defined, no-any-return]  # MARK-11

    assert "MARK-11" in source_line(info.value)


def test_attribute_of_a_non_dataclass() -> None:
    with pytest.raises(CompileError, match=r"load.o0 is a str, it has no 'upper'") as info:

        @workflow
        def wf(n: int) -> str:
            return load(n=n).upper()  # MARK-11b

    assert "MARK-11b" in source_line(info.value)


def test_conditional_comparing_incompatible_types() -> None:
    with pytest.raises(
        CompileError, match=r"cannot compare load.o0 \(str\) with 3 \(int\)"
    ) as info:

        @workflow
        def wf(n: int) -> str:
            c = conditional("c")
            return c.if_(load(n=n) == 3).then(load(n=1)).else_().then(load(n=2))  # MARK-12

    assert "MARK-12" in source_line(info.value)


def test_conditional_branches_with_different_outputs() -> None:
    with pytest.raises(CompileError, match=r"branches must have the same outputs") as info:

        @workflow
        def wf(n: int) -> str:
            c = conditional("c").if_(n == 3).then(load(n=1))
            return c.else_().then(point())  # type: ignore[no-any-return]  # MARK-13

    assert "MARK-13" in source_line(info.value)


def test_conditional_then_needs_a_call() -> None:
    with pytest.raises(CompileError, match=r"then\(\) takes the call of a task") as info:

        @workflow
        def wf(n: int) -> int:
            c = conditional("c").if_(n == 3)
            return c.then(n).else_().fail("no")  # type: ignore[no-any-return]  # MARK-14

    assert "MARK-14" in source_line(info.value)


def test_conditional_outside_a_workflow() -> None:
    with pytest.raises(
        CompileError, match=r"conditional\('c'\) \(test_compile_errors.py:\d+\) is only valid"
    ):
        conditional("c")


def test_cycle_made_with_ordering_is_reported_by_the_compiler_with_locations() -> None:
    with pytest.raises(CompileError, match=r"(?i)cycle") as info:

        @workflow
        def wf() -> None:
            a = nothing()  # MARK-15: the first node of the cycle
            b = nothing()
            a >> b
            b >> a

    assert "MARK-15" in source_line(info.value)
    assert info.value.code


def test_decoration_time_errors_name_the_function() -> None:
    with pytest.raises(
        CompileError, match=r"task f \(test_compile_errors.py:\d+\): input 'x': has no type hint"
    ) as info:

        @task  # MARK-16
        def f(x) -> int:  # type: ignore[no-untyped-def]
            return 1

    assert "MARK-16" in source_line(info.value)

    with pytest.raises(
        CompileError, match=r"cache_ignored_inputs names 'y', which is not an input"
    ):

        @task(cache=True, cache_version="1", cache_ignored_inputs=["y"])
        def g(x: int) -> int:
            return x

    with pytest.raises(CompileError, match=r"cache_version is set but cache is off"):

        @task(cache_version="2")
        def h(x: int) -> int:
            return x


def test_map_task_errors() -> None:
    with pytest.raises(
        CompileError,
        match=r"map_task\(clean\) \(test_compile_errors.py:\d+\): clean has no input\(s\) nope",
    ):
        map_task(functools.partial(clean, nope=1))
    with pytest.raises(CompileError, match=r"expects a task, workflow or launch plan"):
        map_task(len)
    with pytest.raises(CompileError, match=r"expects list\[int\], got str from load.o0"):

        @workflow
        def wf(n: int) -> list[str]:
            return map_task(functools.partial(clean, df="a"))(scale=load(n=n))  # type: ignore[no-any-return]


def test_python_operators_and_formatting_on_a_promise() -> None:
    with pytest.raises(CompileError, match=r"Python operators do not apply") as info:

        @workflow
        def plus(n: int) -> str:
            return clean(df="a", scale=n + 1)  # MARK-17

    assert "MARK-17" in source_line(info.value)
    with pytest.raises(CompileError, match=r"cannot be formatted into a string") as info:

        @workflow
        def fmt(n: int) -> str:
            return load(n=len(f"{n}"))  # MARK-18

    assert "MARK-18" in source_line(info.value)


def test_nested_conditionals_and_subworkflows_in_branches_compile_and_run() -> None:
    @workflow
    def sub(s: str) -> str:
        return clean(df=s, scale=2)

    @workflow
    def wf(x: int) -> str:
        inner = conditional("inner").if_(x > 10).then(load(n=x)).else_().then(sub(s="ab"))
        return conditional("outer").if_(x > 0).then(inner).else_().then(load(n=0))

    assert (wf(x=20), wf(x=5), wf(x=-1)) == ("20", "abab", "0")
