"""``map_task``: run a task once per element of its list inputs (an ArrayNode)."""

from __future__ import annotations

import functools
from typing import Any

from skyloom._engine import engine
from skyloom._errors import CompileError
from skyloom._interface import declared_interface, list_of, optional_of
from skyloom._source import caller_location
from skyloom.core._state import CompileState, compiling, current_state
from skyloom.core.graph import Graph, build_graph, input_promises, output_bindings
from skyloom.core.node import bind_value, new_node
from skyloom_idl.core import literals_pb2, workflow_pb2

_MAPPABLE = ("task", "workflow", "launch plan")


class MapTask:
    """A task (or workflow, or launch plan) mapped over lists; inputs fixed by
    ``functools.partial`` are passed whole to every item."""

    kind = "map task"

    def __init__(
        self,
        target: Any,
        *,
        concurrency: int = 0,
        min_success_ratio: float | None = None,
        min_successes: int | None = None,
    ) -> None:
        self.location = caller_location()
        fixed: dict[str, Any] = {}
        if isinstance(target, functools.partial):
            if target.args:
                raise CompileError(
                    f"map_task ({self.location}): bind fixed inputs by name in "
                    "functools.partial(task, name=value), not by position",
                    location=self.location,
                )
            fixed, target = dict(target.keywords), target.func
        if getattr(target, "kind", None) not in _MAPPABLE or not hasattr(target, "fill_node"):
            raise CompileError(
                f"map_task ({self.location}): expects a task, workflow or launch plan (or a "
                f"functools.partial of one), got {target!r}",
                location=self.location,
            )
        self.task = target
        self.fixed = fixed
        where = f"map_task({target.short_name}) ({self.location})"
        unknown = sorted(set(fixed) - set(target.py_interface.inputs))
        if unknown:
            raise CompileError(
                f"{where}: {target.short_name} has no input(s) {', '.join(unknown)}",
                location=self.location,
                code="UnknownInput",
            )
        if min_success_ratio is not None and not 0 < min_success_ratio <= 1:
            raise CompileError(
                f"{where}: min_success_ratio must be in (0, 1]", location=self.location
            )
        if concurrency < 0:
            raise CompileError(f"{where}: concurrency must be >= 0", location=self.location)
        self.concurrency = concurrency
        self.min_success_ratio = min_success_ratio
        self.min_successes = min_successes
        self.short_name = f"map_{target.short_name}"
        self.name = f"{target.name}.map"
        partial_ok = (min_success_ratio is not None and min_success_ratio < 1) or bool(
            min_successes
        )
        ins = target.py_interface
        self.mapped = [n for n in ins.inputs if n not in fixed]
        self.py_interface = declared_interface(
            self.short_name,
            inputs={n: list_of(ins.inputs[n]) for n in self.mapped},
            outputs={
                n: list_of(optional_of(t) if partial_ok else t) for n, t in ins.outputs.items()
            },
        )
        self.output_tuple = self.py_interface.output_tuple
        self._graph: Graph | None = None

    def __repr__(self) -> str:
        return f"MapTask({self.task.name})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        state = current_state()
        if state is None:
            from skyloom.local.run import run_entity

            return run_entity(self, args, kwargs)
        return self._add_node(state, caller_location(), args, kwargs)

    def _add_node(
        self, state: CompileState, location: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        where = state.where(location)
        values = dict(zip(self.mapped, args, strict=False))
        for k, v in kwargs.items():
            if k not in self.py_interface.inputs:
                raise CompileError(
                    f"{where}: {self.short_name} has no mapped input '{k}' "
                    f"(mapped: {', '.join(self.mapped)}; fixed: {', '.join(self.fixed) or 'none'})",
                    location=location,
                    code="UnknownInput",
                )
            values[k] = v
        node = new_node(state, self, location)
        inner = workflow_pb2.Node(
            id=f"{node.proto.id}-item",
            metadata=workflow_pb2.NodeMetadata(name=self.task.short_name, source_location=location),
        )
        ins = self.task.py_interface
        for name, t in ins.inputs.items():
            what = f"input '{name}' of {self.short_name}"
            if name in self.fixed:
                data = bind_value(self.fixed[name], t, what, where, location)
            elif name in values:
                data = bind_value(values[name], list_of(t), what, where, location)
            elif name in ins.defaults:  # not mapped: every item gets the default
                data = bind_value(ins.defaults[name], t, what, where, location)
            else:
                raise CompileError(
                    f"{where}: {what} is not bound", location=location, code="ParameterNotBound"
                )
            # Bindings live on the array node: list-typed ones are split per item.
            node.proto.inputs.append(literals_pb2.Binding(var=name, binding=data))
        self.task.fill_node(inner, state)
        arr = node.proto.array_node
        arr.node.CopyFrom(inner)
        arr.parallelism = self.concurrency
        if self.min_successes:
            arr.min_successes = self.min_successes
        elif self.min_success_ratio is not None:
            arr.min_success_ratio = self.min_success_ratio
        node.mapped_inputs = frozenset(n for n in self.mapped if n in values)
        state.nodes.append(node)
        return node.outputs()

    @property
    def graph(self) -> Graph:
        """A one-node workflow around the map, for running it on its own."""
        if self._graph is None:
            from skyloom_idl.core import identifier_pb2

            state = CompileState(self.short_name, self.location)
            with compiling(state):
                out = self._add_node(
                    state, self.location, (), input_promises(self.py_interface.inputs)
                )
                bindings = output_bindings(
                    out, self.py_interface.outputs, state, self.location, self.short_name
                )
            tmpl = workflow_pb2.WorkflowTemplate(
                id=identifier_pb2.Identifier(
                    resource_type=identifier_pb2.RESOURCE_TYPE_WORKFLOW, name=self.name
                ),
                interface=engine().interface(self.py_interface),
                nodes=[n.proto for n in state.nodes],
                outputs=bindings,
            )
            self._graph = build_graph(tmpl, state, self.py_interface.inputs)
        return self._graph


def map_task(
    target: Any,
    *,
    concurrency: int = 0,
    min_success_ratio: float | None = None,
    min_successes: int | None = None,
) -> MapTask:
    """Map ``target`` (a task, or ``functools.partial(task, fixed=...)``) over list inputs.

    ``concurrency`` caps items running at once (0: no cap). With ``min_success_ratio`` below 1
    (or ``min_successes``), failed items give None in the output lists.
    """
    return MapTask(
        target,
        concurrency=concurrency,
        min_success_ratio=min_success_ratio,
        min_successes=min_successes,
    )
