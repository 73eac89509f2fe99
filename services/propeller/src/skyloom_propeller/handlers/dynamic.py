"""Dynamic nodes: a task that wrote ``futures.pb`` (a ``DynamicJobSpec``) instead of outputs.

The spec is compiled once with ``skyloom_core.compile_dynamic`` (the parent task's interface, the
closure's tasks and subworkflows), stored as ``<node>/<attempt>/dynamic_closure.pb`` and recorded
in ``detail["compiled"]``, so later rounds (and a restarted engine) run the same graph. Its nodes
run inside the node at paths ``<node>.<attempt>.<child>`` with ``retry_group = attempt``, and the
node's outputs are the generated graph's outputs. A spec that does not compile fails the node
(USER ``DynamicCompilationFailed``).
"""

from __future__ import annotations

from skyloom_core.compiler import compile_dynamic
from skyloom_core.errors import CompilationFailed
from skyloom_core.refs import id_key
from skyloom_idl.core import compiler_pb2
from skyloom_propeller.commands import Fetch, WriteBlob
from skyloom_propeller.context import NODE, BlobMissing, NodeContext, Scope, Transition


def _closure(ctx: NodeContext) -> compiler_pb2.CompiledWorkflowClosure | Transition:
    st, rnd = ctx.st, ctx.rnd
    attempt = st.attempts - 1
    uri = st.detail.get("compiled")
    if uri:
        closure = rnd.closures.get(uri) or rnd.view.closure(uri)
        if closure is None:
            if rnd.view.missing(uri):
                raise BlobMissing(uri)
            rnd.emit(Fetch(uri, "closure"))
            return Transition.running(NODE.PHASE_DYNAMIC_RUNNING)
        return closure
    spec = rnd.view.dynamic_job(st.detail["futures"])
    if spec is None:
        if rnd.view.missing(st.detail["futures"]):
            raise BlobMissing(st.detail["futures"])
        rnd.emit(Fetch(st.detail["futures"], "dynamic_job"))
        return Transition.running(NODE.PHASE_DYNAMIC_RUNNING)
    task = ctx.task(ctx.node.task_node.reference_id)
    subs = {**rnd.subworkflows, **ctx.scope.subworkflows}
    try:
        closure = compile_dynamic(
            spec,
            parent_id=task.id,
            parent_interface=task.interface,
            tasks={**rnd.tasks, **ctx.scope.tasks},
            subworkflows={k: w.template for k, w in subs.items()},
        )
    except CompilationFailed as err:
        return Transition.failed("DynamicCompilationFailed", str(err))
    uri = ctx.node_uri(str(attempt), "dynamic_closure.pb")
    rnd.emit(WriteBlob(uri, closure.SerializeToString(deterministic=True)))
    rnd.closures[uri] = closure
    st.detail["compiled"] = uri
    return closure


def _scope(ctx: NodeContext, closure: compiler_pb2.CompiledWorkflowClosure) -> Scope:
    attempt = ctx.st.attempts - 1
    return Scope(
        compiled=closure.primary,
        prefix=f"{ctx.path}.{attempt}.",
        inputs_uri=ctx.st.inputs_uri,
        retry_group=attempt,
        parent_path=ctx.path,
        tasks={**ctx.scope.tasks, **{id_key(t.template.id): t.template for t in closure.tasks}},
        subworkflows={
            **ctx.scope.subworkflows,
            **{id_key(w.template.id): w for w in closure.sub_workflows},
        },
    )


def handle(ctx: NodeContext) -> Transition:
    """Advance the generated graph (called by the task handler once futures exist)."""
    from skyloom_propeller.handlers.subworkflow import from_result

    closure = _closure(ctx)
    if isinstance(closure, Transition):
        return closure
    res = ctx.engine.run_graph(ctx.rnd, _scope(ctx, closure))
    return from_result(res, NODE.PHASE_DYNAMIC_RUNNING)


def abort(ctx: NodeContext, reason: str) -> None:
    uri = ctx.st.detail.get("compiled")
    closure = (ctx.rnd.closures.get(uri) or ctx.rnd.view.closure(uri)) if uri else None
    if closure is not None:
        ctx.engine.abort_graph(ctx.rnd, _scope(ctx, closure), reason)
