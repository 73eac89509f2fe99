"""``@workflow``: a body traced once with promises, compiled and validated at definition."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

from skyloom._engine import engine
from skyloom._errors import CompileError
from skyloom._interface import interface_of
from skyloom._source import object_location
from skyloom.core._state import CompileState, compiling
from skyloom.core.graph import Graph, build_graph, input_promises, output_bindings
from skyloom.core.node import bind_value, call
from skyloom_idl.core import identifier_pb2, literals_pb2, workflow_pb2

P = ParamSpec("P")
R = TypeVar("R")

FailurePolicy = Literal["fail_immediately", "fail_after_executable_nodes_complete"]
_POLICIES = {
    "fail_immediately": workflow_pb2.WorkflowMetadata.ON_FAILURE_POLICY_FAIL_IMMEDIATELY,
    "fail_after_executable_nodes_complete": (
        workflow_pb2.WorkflowMetadata.ON_FAILURE_POLICY_FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
    ),
}
FAILURE_NODE = "failure-node"


class Workflow(Generic[P, R]):
    """A workflow. Call it in another workflow for a subworkflow, elsewhere to run it locally."""

    kind = "workflow"

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        failure_policy: FailurePolicy = "fail_immediately",
        on_failure: Any = None,
        interruptible: bool | None = None,
    ) -> None:
        self.fn = fn
        self.location = object_location(fn)
        self.short_name = fn.__name__
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        self.py_interface = interface_of(fn, self.kind)
        self.output_tuple = self.py_interface.output_tuple
        if failure_policy not in _POLICIES:
            raise CompileError(
                f"workflow {self.short_name} ({self.location}): failure_policy must be one of "
                f"{', '.join(_POLICIES)}, got {failure_policy!r}",
                location=self.location,
            )
        self.failure_policy = failure_policy
        self.on_failure = on_failure
        self.interruptible = interruptible
        functools.update_wrapper(self, fn)
        self.graph = self._compile()

    def __repr__(self) -> str:
        return f"Workflow({self.name})"

    @property
    def id(self) -> identifier_pb2.Identifier:
        return identifier_pb2.Identifier(
            resource_type=identifier_pb2.RESOURCE_TYPE_WORKFLOW, name=self.name
        )

    @property
    def template(self) -> workflow_pb2.WorkflowTemplate:
        return self.graph.template

    def _compile(self) -> Graph:
        state = CompileState(self.short_name, self.location)
        with compiling(state):
            body: Callable[..., Any] = self.fn
            result = body(**input_promises(self.py_interface.inputs))
            outputs = output_bindings(
                result,
                self.py_interface.outputs,
                state,
                self.location,
                f"workflow {self.short_name}",
            )
        meta = workflow_pb2.WorkflowMetadata(
            on_failure=_POLICIES[self.failure_policy],
            source_location=f"{self.name} ({self.location})",
            description=self.py_interface.docstring,
        )
        if self.interruptible is not None:
            meta.interruptible = self.interruptible
        template = workflow_pb2.WorkflowTemplate(
            id=self.id,
            metadata=meta,
            interface=engine().interface(self.py_interface),
            nodes=[n.proto for n in state.nodes],
            outputs=outputs,
        )
        if self.on_failure is not None:
            template.failure_node.CopyFrom(self._failure_node(state))
        return build_graph(template, state, self.py_interface.inputs)

    def _failure_node(self, state: CompileState) -> workflow_pb2.Node:
        task = self.on_failure
        where = state.where(self.location)
        if getattr(task, "kind", None) != "task":
            raise CompileError(f"{where}: on_failure must be a task, got {task!r}")
        node = workflow_pb2.Node(
            id=FAILURE_NODE,
            metadata=workflow_pb2.NodeMetadata(name=task.short_name, source_location=self.location),
        )
        promises = input_promises(self.py_interface.inputs)
        for name, t in task.py_interface.inputs.items():
            if name not in promises:
                if name in task.py_interface.defaults:
                    continue
                raise CompileError(
                    f"{where}: on_failure task {task.short_name} needs input '{name}', which "
                    f"the workflow does not have (its inputs: {', '.join(promises) or 'none'})",
                    location=self.location,
                    code="ParameterNotBound",
                )
            data = bind_value(
                promises[name], t, f"input '{name}' of {task.short_name}", where, self.location
            )
            node.inputs.append(literals_pb2.Binding(var=name, binding=data))
        task.fill_node(node, state)
        return node

    def fill_node(self, node: workflow_pb2.Node, state: CompileState) -> None:
        node.workflow_node.sub_workflow_ref.CopyFrom(self.id)
        state.entities[self.name] = self

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        result: R = call(self, args, kwargs)
        return result


@overload
def workflow(fn: Callable[P, R], /) -> Workflow[P, R]: ...


@overload
def workflow(
    *,
    failure_policy: FailurePolicy = "fail_immediately",
    on_failure: Any = None,
    interruptible: bool | None = None,
) -> Callable[[Callable[P, R]], Workflow[P, R]]: ...


def workflow(
    fn: Callable[P, R] | None = None,
    /,
    *,
    failure_policy: FailurePolicy = "fail_immediately",
    on_failure: Any = None,
    interruptible: bool | None = None,
) -> Any:
    """Compile a function's body into a workflow, validating it now (at definition)."""

    def wrap(f: Callable[P, R]) -> Workflow[P, R]:
        try:
            return Workflow(
                f, failure_policy=failure_policy, on_failure=on_failure, interruptible=interruptible
            )
        except CompileError as err:
            # The message names the author's line; the SDK's frames would only hide it.
            raise err.with_traceback(None) from err.__cause__

    return wrap(fn) if fn is not None else wrap
