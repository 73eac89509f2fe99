"""Shared state of one compilation: the error sink, node interfaces, and entity lookups."""
# START_NODE/END_NODE are defined in _graph and re-exported from here for the other modules.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from skyloom_core.compiler._graph import END_NODE as END_NODE
from skyloom_core.compiler._graph import START_NODE as START_NODE
from skyloom_core.compiler.codes import ErrorCode
from skyloom_core.errors import CompileError
from skyloom_core.refs import Resolved, resolve
from skyloom_idl.core import identifier_pb2, interface_pb2, tasks_pb2, types_pb2, workflow_pb2

RESERVED_IDS = frozenset({START_NODE, END_NODE})

# A variable whose type is unknown (an opaque struct attribute, a failed reference) is None:
# it is never reported as a mismatch, since its cause (if any) is reported already.
VarTypes = dict[str, types_pb2.LiteralType | None]


@dataclass(frozen=True, slots=True)
class LaunchPlanInterface:
    """A launch plan as a node target: its interface and the inputs that have defaults
    (or are fixed), which a node may leave unbound."""

    interface: interface_pb2.TypedInterface
    defaults: frozenset[str] = frozenset()


@dataclass(slots=True)
class Interface:
    """What a node takes and produces, as far as the compiler can tell.

    ``open_inputs``: any input name may be bound (branch and gate nodes, which take whatever
    they are given). ``array_of``: for array nodes, the per-item input types (an input may be
    bound to ``list[T]`` to be mapped over, or to ``T`` to be passed to every item).
    """

    inputs: VarTypes = field(default_factory=dict)
    outputs: VarTypes = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    open_inputs: bool = False
    array_of: VarTypes | None = None
    passthrough: bool = False
    opaque: bool = False


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node sits: its id, proto path prefix, display name and source location."""

    node_id: str
    path: str
    display: str
    source_location: str


class Sink:
    """Collects every CompileError of a compilation (and of its subworkflows)."""

    def __init__(self, prefix: str = "") -> None:
        self.errors: list[CompileError] = []
        self.prefix = prefix

    def add(
        self, code: ErrorCode, message: str, *, node_id: str = "", path: str = "", source: str = ""
    ) -> None:
        full = f"{self.prefix}{path}" if path else self.prefix.rstrip(".")
        self.errors.append(CompileError(str(code), message, node_id, full, source))

    def at(self, loc: Location, code: ErrorCode, message: str, path: str) -> None:
        self.add(code, message, node_id=loc.node_id, path=path, source=loc.source_location)


@dataclass(slots=True)
class Entities:
    """What node targets can refer to, keyed by ``id_key``, plus what was actually used."""

    tasks: Mapping[str, tasks_pb2.TaskTemplate]
    subworkflows: Mapping[str, workflow_pb2.WorkflowTemplate]
    launch_plans: Mapping[str, interface_pb2.TypedInterface | LaunchPlanInterface]
    used_tasks: dict[str, tasks_pb2.TaskTemplate] = field(default_factory=dict)
    used_subworkflows: set[str] = field(default_factory=set)

    def task(self, ref: identifier_pb2.Identifier) -> Resolved[tasks_pb2.TaskTemplate]:
        found = resolve(ref, self.tasks)
        if found.value is not None:
            self.used_tasks[found.key] = found.value
        return found

    def subworkflow(
        self, ref: identifier_pb2.Identifier
    ) -> Resolved[workflow_pb2.WorkflowTemplate]:
        found = resolve(ref, self.subworkflows)
        if found.value is not None:
            self.used_subworkflows.add(found.key)
        return found

    def launch_plan(self, ref: identifier_pb2.Identifier) -> Resolved[LaunchPlanInterface]:
        found = resolve(ref, self.launch_plans)
        value = found.value
        if isinstance(value, interface_pb2.TypedInterface):
            return Resolved(found.key, LaunchPlanInterface(value), found.candidates)
        return Resolved(found.key, value, found.candidates)


def variables(vm: interface_pb2.VariableMap) -> VarTypes:
    """A VariableMap's names and types."""
    return {name: var.type for name, var in vm.variables.items()}


def display_name(node: workflow_pb2.Node) -> str:
    """How messages name a node: its metadata name when set, else its id."""
    return node.metadata.name or node.id
