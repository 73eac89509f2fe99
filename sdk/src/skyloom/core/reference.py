"""References to tasks and launch plans already registered, by their full id."""

from __future__ import annotations

from typing import Any

from skyloom._engine import engine
from skyloom._errors import ExecutionError
from skyloom._interface import declared_interface
from skyloom._source import caller_location
from skyloom.core._state import CompileState
from skyloom.core.node import call
from skyloom_idl.core import identifier_pb2, literals_pb2, tasks_pb2, workflow_pb2


class _Reference:
    resource_type: identifier_pb2.ResourceType.ValueType = identifier_pb2.RESOURCE_TYPE_TASK

    def __init__(
        self,
        project: str,
        domain: str,
        name: str,
        version: str,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
    ) -> None:
        self.location = caller_location()
        self.name = name
        self.short_name = name.rsplit(".", 1)[-1]
        self.id = identifier_pb2.Identifier(
            resource_type=self.resource_type,
            project=project,
            domain=domain,
            name=name,
            version=version,
        )
        self.py_interface = declared_interface(name, inputs, outputs)
        self.output_tuple = self.py_interface.output_tuple

    def __repr__(self) -> str:
        i = self.id
        return f"{type(self).__name__}({i.project}/{i.domain}/{i.name}@{i.version})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return call(self, args, kwargs)

    async def run_local(
        self, ex: Any, inputs: literals_pb2.LiteralMap, path: str
    ) -> literals_pb2.LiteralMap:
        raise ExecutionError(
            f"{self!r} ({self.location}) refers to a registered entity and cannot run locally; "
            "run the workflow remotely, or call a local stand-in instead",
            node_id=path,
            code="ReferenceNotLocal",
        )


class ReferenceTask(_Reference):
    """A registered task, usable in workflows; ``inputs``/``outputs`` map names to Python types."""

    kind = "task"

    @property
    def template(self) -> tasks_pb2.TaskTemplate:
        """The interface only: the rest is in the registered template."""
        return tasks_pb2.TaskTemplate(
            id=self.id, type="python", interface=engine().interface(self.py_interface)
        )

    def fill_node(self, node: workflow_pb2.Node, state: CompileState) -> None:
        node.task_node.reference_id.CopyFrom(self.id)
        state.entities[self.name] = self


class ReferenceLaunchPlan(_Reference):
    """A registered launch plan, usable in workflows as a child execution."""

    kind = "launch plan"
    resource_type = identifier_pb2.RESOURCE_TYPE_LAUNCH_PLAN

    def fill_node(self, node: workflow_pb2.Node, state: CompileState) -> None:
        node.workflow_node.launchplan_ref.CopyFrom(self.id)
        state.entities["lp:" + self.name] = self

    def literal_inputs(
        self, given: literals_pb2.LiteralMap, raw_dir: object = None
    ) -> literals_pb2.LiteralMap:
        return given


# flytekit's names for them: ``reference_task(project, domain, name, version, inputs, outputs)``.
reference_task = ReferenceTask
reference_launch_plan = ReferenceLaunchPlan
