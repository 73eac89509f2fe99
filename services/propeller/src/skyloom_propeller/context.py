"""What a node handler sees during a round: ``Round`` (shared), ``Scope`` (the graph being
run), ``NodeContext`` (one node), and ``Transition`` (what the handler decided).

Handlers read state and the view through the context and append commands to it; only the engine
moves a node's phase, from the returned ``Transition``, and emits the node event for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from skyloom_core.refs import id_key
from skyloom_idl.core import (
    compiler_pb2,
    execution_pb2,
    identifier_pb2,
    literals_pb2,
    tasks_pb2,
    workflow_pb2,
)
from skyloom_propeller.commands import Command, Commands, Fetch, WriteLiterals
from skyloom_propeller.config import EngineConfig
from skyloom_propeller.state import ErrorInfo, ExecutionState, NodeState
from skyloom_propeller.view import View

NODE = execution_pb2.NodeExecution.Phase
USER = execution_pb2.ExecutionError.ERROR_KIND_USER
SYSTEM = execution_pb2.ExecutionError.ERROR_KIND_SYSTEM
START_NODE = "start-node"
END_NODE = "end-node"


class BlobMissing(Exception):
    """A blob the engine needs is not in the store (an infrastructure fault: it is raised, and
    the shell retries the round with backoff rather than failing the execution)."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"{uri} is missing from the blob store")
        self.uri = uri


@dataclass(slots=True)
class Round:
    """Everything one ``evaluate`` call shares. ``inflight`` counts running task attempts and
    child executions (for max parallelism); ``written`` holds literal maps written this round so
    later nodes can read them before the shell has stored them."""

    state: ExecutionState
    closure: compiler_pb2.CompiledWorkflowClosure
    view: View
    now: float
    config: EngineConfig
    tasks: dict[str, tasks_pb2.TaskTemplate]
    subworkflows: dict[str, compiler_pb2.CompiledWorkflow]
    commands: Commands = field(default_factory=Commands)
    wakes: list[float] = field(default_factory=list)
    written: dict[str, literals_pb2.LiteralMap] = field(default_factory=dict)
    closures: dict[str, compiler_pb2.CompiledWorkflowClosure] = field(default_factory=dict)
    inflight: int = 0

    @property
    def execution_id(self) -> identifier_pb2.WorkflowExecutionIdentifier:
        s = self.state
        return identifier_pb2.WorkflowExecutionIdentifier(
            project=s.project, domain=s.domain, name=s.name
        )

    @property
    def aborting(self) -> bool:
        return bool(self.state.abort_cause)

    def emit(self, cmd: Command) -> None:
        self.commands.add(cmd)

    def wake(self, at: float) -> None:
        self.wakes.append(at)

    def can_launch(self) -> bool:
        """Whether one more attempt fits under the execution's max parallelism (0: no limit)."""
        limit = self.state.max_parallelism
        return limit <= 0 or self.inflight < limit

    def literals(self, uri: str) -> literals_pb2.LiteralMap | None:
        """A literal map by URI, or ``None`` after asking the shell to fetch it."""
        got = self.written.get(uri)
        if got is None:
            got = self.view.literals(uri)
        if got is None:
            if self.view.missing(uri):
                raise BlobMissing(uri)
            self.emit(Fetch(uri, "literals"))
        return got

    def write(self, uri: str, literals: literals_pb2.LiteralMap) -> None:
        self.written[uri] = literals
        self.emit(WriteLiterals(uri, literals))

    def data_uri(self, *parts: str) -> str:
        return "/".join([self.state.data_prefix.rstrip("/"), *parts])


@dataclass(slots=True)
class Scope:
    """A graph being run: the primary workflow, an inline subworkflow, a branch's chosen node or
    a dynamic node's generated graph. Node paths are ``prefix + node id``; ``start-node``'s
    outputs are ``inputs_uri``. ``aliases`` lets a branch's inner node bind to the branch's own
    inputs (``promise(<branch id>, var)``)."""

    compiled: compiler_pb2.CompiledWorkflow
    prefix: str
    inputs_uri: str
    retry_group: int = 0
    parent_path: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    resolve_in: Scope | None = None
    tasks: dict[str, tasks_pb2.TaskTemplate] = field(default_factory=dict)
    subworkflows: dict[str, compiler_pb2.CompiledWorkflow] = field(default_factory=dict)

    def path(self, node_id: str) -> str:
        return self.prefix + node_id


@dataclass(slots=True)
class Transition:
    """A handler's decision. ``phase`` is the node's new ``NodeExecution.Phase`` (or the same
    one: no change). Build with the class methods."""

    phase: int
    outputs_uri: str = ""
    error: ErrorInfo | None = None
    reason: str = ""

    @classmethod
    def stay(cls, ctx: NodeContext) -> Transition:
        return cls(ctx.st.phase)

    @classmethod
    def running(cls, phase: int = NODE.PHASE_RUNNING, reason: str = "") -> Transition:
        return cls(phase, reason=reason)

    @classmethod
    def succeeded(cls, outputs_uri: str, phase: int = NODE.PHASE_SUCCEEDED) -> Transition:
        return cls(phase, outputs_uri=outputs_uri)

    @classmethod
    def failed(
        cls,
        code: str,
        message: str,
        *,
        kind: int = USER,
        uri: str = "",
        phase: int = NODE.PHASE_FAILED,
    ) -> Transition:
        return cls(phase, error=ErrorInfo(code=code, message=message, kind=kind, uri=uri))


@dataclass(slots=True)
class NodeContext:
    """One node during one round. ``run_graph`` runs a nested scope (subworkflow, branch,
    dynamic) and is provided by the engine, so handlers need not import it."""

    rnd: Round
    scope: Scope
    node: workflow_pb2.Node
    path: str
    st: NodeState
    engine: GraphRunner

    @property
    def now(self) -> float:
        return self.rnd.now

    def task(self, ref: identifier_pb2.Identifier) -> tasks_pb2.TaskTemplate:
        """A task template from the scope (a dynamic job's own tasks) or the closure."""
        key = id_key(ref)
        found = self.scope.tasks.get(key) or self.rnd.tasks.get(key)
        if found is None:
            raise LookupError(f"task {key} is not in the closure")
        return found

    def subworkflow(self, ref: identifier_pb2.Identifier) -> compiler_pb2.CompiledWorkflow:
        key = id_key(ref)
        found = self.scope.subworkflows.get(key) or self.rnd.subworkflows.get(key)
        if found is None:
            raise LookupError(f"subworkflow {key} is not in the closure")
        return found

    def inputs(self) -> literals_pb2.LiteralMap | None:
        """The node's resolved inputs (written when it was queued)."""
        return self.rnd.literals(self.st.inputs_uri)

    def node_uri(self, *parts: str) -> str:
        return self.rnd.data_uri(self.path, *parts)


class GraphRunner(Protocol):
    """What handlers of nodes with children use to run those children."""

    def run_graph(self, rnd: Round, scope: Scope) -> GraphResult: ...

    def abort_graph(self, rnd: Round, scope: Scope, reason: str) -> None: ...

    def visit(self, rnd: Round, scope: Scope, node: workflow_pb2.Node, path: str) -> NodeState: ...

    def abort_node(
        self, rnd: Round, scope: Scope, node: workflow_pb2.Node, path: str, reason: str
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class GraphResult:
    """Where a scope stands: ``phase`` is RUNNING, SUCCEEDED or FAILED (a node phase)."""

    phase: int
    outputs_uri: str = ""
    error: ErrorInfo | None = None
