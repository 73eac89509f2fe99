"""``@dynamic``: a task whose body builds a graph at run time from its actual inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

from skyloom._engine import engine
from skyloom.core._state import CompileState, compiling
from skyloom.core.graph import Graph, build_graph, output_bindings
from skyloom.core.task import _DEFAULTS, PythonTask, _settings
from skyloom_idl.core import (
    dynamic_job_pb2,
    identifier_pb2,
    interface_pb2,
    workflow_pb2,
)

P = ParamSpec("P")
R = TypeVar("R")


class DynamicTask(PythonTask[P, R]):
    """Runs its body with real values; task calls inside add nodes to a generated graph."""

    is_dynamic = True

    def execute(self, **kwargs: Any) -> Graph:
        """Trace the body with ``kwargs`` and compile the generated graph (with libs/core)."""
        state = CompileState(self.short_name, self.location, node_prefix="dn")
        with compiling(state):
            body: Callable[..., Any] = self.fn
            result = body(**kwargs)
            outputs = output_bindings(
                result,
                self.py_interface.outputs,
                state,
                self.location,
                f"dynamic {self.short_name}",
            )
        template = workflow_pb2.WorkflowTemplate(
            id=identifier_pb2.Identifier(
                resource_type=identifier_pb2.RESOURCE_TYPE_WORKFLOW, name=f"{self.name}.dynamic"
            ),
            interface=interface_pb2.TypedInterface(
                outputs=engine().interface(self.py_interface).outputs
            ),
            nodes=[n.proto for n in state.nodes],
            outputs=outputs,
        )
        return build_graph(template, state, {}, dynamic=True)


def job_spec(graph: Graph) -> dynamic_job_pb2.DynamicJobSpec:
    """The futures.pb a dynamic task writes instead of outputs."""
    ents = graph.entities.values()
    return dynamic_job_pb2.DynamicJobSpec(
        nodes=graph.template.nodes,
        outputs=graph.template.outputs,
        tasks=[e.template for e in ents if e.kind == "task"],
        subworkflows=[e.template for e in ents if e.kind == "workflow"],
    )


@overload
def dynamic(fn: Callable[P, R], /) -> DynamicTask[P, R]: ...


@overload
def dynamic(**options: Any) -> Callable[[Callable[P, R]], DynamicTask[P, R]]: ...


def dynamic(fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
    """Like ``@task`` (same options), but the body composes tasks using its real inputs."""
    settings = _settings(**{**_DEFAULTS, **options})

    def wrap(f: Callable[P, R]) -> DynamicTask[P, R]:
        return DynamicTask(f, settings)

    return wrap(fn) if fn is not None else wrap
