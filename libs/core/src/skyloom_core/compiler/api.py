"""Entry points: compile a workflow (with its subworkflows) or a @dynamic job spec."""

from __future__ import annotations

from collections.abc import Mapping

from skyloom_core.compiler._context import Entities, LaunchPlanInterface, Sink
from skyloom_core.compiler._graph import analyze
from skyloom_core.compiler._workflow import TemplateCompiler
from skyloom_core.compiler.codes import ErrorCode
from skyloom_core.errors import CompilationFailed
from skyloom_core.refs import id_key
from skyloom_idl.core import (
    compiler_pb2,
    dynamic_job_pb2,
    identifier_pb2,
    interface_pb2,
    tasks_pb2,
    workflow_pb2,
)


def compile_workflow(
    template: workflow_pb2.WorkflowTemplate,
    *,
    tasks: Mapping[str, tasks_pb2.TaskTemplate],
    subworkflows: Mapping[str, workflow_pb2.WorkflowTemplate] = {},
    launch_plans: Mapping[str, interface_pb2.TypedInterface | LaunchPlanInterface] = {},
) -> compiler_pb2.CompiledWorkflowClosure:
    """Validate ``template`` and build its closure, or raise ``CompilationFailed`` listing
    every error found (in the template and in every subworkflow it uses).

    Mappings are keyed by ``id_key`` (``project/domain/name@version``); references resolve by
    ``refs.resolve`` (empty fields of a reference are wildcards, ambiguity is an error). The
    closure holds the compiled primary workflow, each subworkflow it uses (transitively, sorted
    by key), and every task referenced anywhere (sorted by key). References in the compiled
    templates are rewritten to the full ids they resolved to.
    """
    sink = Sink()
    closure = _compile(template, tasks, subworkflows, launch_plans, sink, require_nodes=True)
    if sink.errors:
        raise CompilationFailed(sink.errors)
    return closure


def compile_dynamic(
    spec: dynamic_job_pb2.DynamicJobSpec,
    *,
    parent_id: identifier_pb2.Identifier,
    parent_interface: interface_pb2.TypedInterface,
    tasks: Mapping[str, tasks_pb2.TaskTemplate] = {},
    subworkflows: Mapping[str, workflow_pb2.WorkflowTemplate] = {},
    launch_plans: Mapping[str, interface_pb2.TypedInterface | LaunchPlanInterface] = {},
) -> compiler_pb2.CompiledWorkflowClosure:
    """Compile the graph a @dynamic task returned, as a workflow with the parent node's
    interface: its nodes may use the parent's inputs (``start-node``) and its ``outputs``
    bindings must produce every parent output. Tasks and subworkflows come from the spec
    first, then from ``tasks``/``subworkflows`` (e.g. the parent closure's). An empty graph is
    valid (a dynamic over an empty list)."""
    all_tasks = {**tasks, **{id_key(t.id): t for t in spec.tasks}}
    all_subs = {**subworkflows, **{id_key(w.id): w for w in spec.subworkflows}}
    template = workflow_pb2.WorkflowTemplate(
        id=parent_id, interface=parent_interface, nodes=spec.nodes, outputs=spec.outputs
    )
    sink = Sink()
    if spec.min_successes < 0 or spec.min_successes > len(spec.nodes):
        msg = f"min_successes is {spec.min_successes} but the job has {len(spec.nodes)} nodes"
        sink.add(ErrorCode.INVALID_DYNAMIC_JOB, msg, path="min_successes")
    closure = _compile(template, all_tasks, all_subs, launch_plans, sink, require_nodes=False)
    if sink.errors:
        raise CompilationFailed(sink.errors)
    return closure


def _compile(
    template: workflow_pb2.WorkflowTemplate,
    tasks: Mapping[str, tasks_pb2.TaskTemplate],
    subworkflows: Mapping[str, workflow_pb2.WorkflowTemplate],
    launch_plans: Mapping[str, interface_pb2.TypedInterface | LaunchPlanInterface],
    sink: Sink,
    *,
    require_nodes: bool,
) -> compiler_pb2.CompiledWorkflowClosure:
    entities = Entities(tasks, subworkflows, launch_plans)
    primary = TemplateCompiler(template, entities, sink, require_nodes=require_nodes)
    compiled = primary.compile()
    root = id_key(template.id)
    refs: dict[str, dict[str, str]] = {root: primary.sub_refs}
    compiled_subs: dict[str, compiler_pb2.CompiledWorkflow] = {}
    pending = sorted(primary.sub_refs)
    while pending:
        key = pending.pop(0)
        if key in compiled_subs or key == root:
            continue
        sub = TemplateCompiler(subworkflows[key], entities, _sink_for(sink, key))
        compiled_subs[key] = sub.compile()
        refs[key] = sub.sub_refs
        pending += sorted(k for k in sub.sub_refs if k not in compiled_subs)
    _check_recursion(root, refs, sink)
    return compiler_pb2.CompiledWorkflowClosure(
        primary=compiled,
        sub_workflows=[compiled_subs[k] for k in sorted(compiled_subs)],
        tasks=[
            compiler_pb2.CompiledTask(template=entities.used_tasks[k])
            for k in sorted(entities.used_tasks)
        ],
    )


def _sink_for(parent: Sink, key: str) -> Sink:
    """A sink that writes into ``parent``'s list with a ``sub_workflows["key"].`` prefix."""
    sub = Sink(f'sub_workflows["{key}"].')
    sub.errors = parent.errors
    return sub


def _check_recursion(root: str, refs: Mapping[str, Mapping[str, str]], sink: Sink) -> None:
    """A subworkflow that (transitively) contains itself could never be expanded."""
    keys = sorted(refs)
    deps = {k: {src: refs[src][k] for src in refs if k in refs[src]} for k in keys}
    for cycle in analyze(keys, deps).cycles:
        shown = " -> ".join((*cycle.path, cycle.path[0]))
        owner = cycle.path[-1]
        prefix = "" if owner == root else f'sub_workflows["{owner}"].'
        sink.add(
            ErrorCode.CYCLE_DETECTED,
            f"workflows include each other recursively: {shown}",
            path=f"{prefix}{cycle.field_path}",
        )
