"""Validate templates with libs/core's compiler; report its errors in the author's terms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from skyloom._errors import CompileError
from skyloom_core.compiler import (
    CompilationFailed,
    LaunchPlanInterface,
    compile_dynamic,
    compile_workflow,
)
from skyloom_core.compiler import CompileError as CoreCompileError
from skyloom_core.refs import id_key
from skyloom_idl.core import (
    compiler_pb2,
    dynamic_job_pb2,
    identifier_pb2,
    interface_pb2,
    tasks_pb2,
    workflow_pb2,
)


def compile_closure(
    primary: workflow_pb2.WorkflowTemplate,
    *,
    tasks: Iterable[tasks_pb2.TaskTemplate],
    subworkflows: Iterable[workflow_pb2.WorkflowTemplate],
    launch_plans: Iterable[
        tuple[identifier_pb2.Identifier, interface_pb2.TypedInterface, frozenset[str]]
    ] = (),
    where: str,
    locations: Mapping[str, str],
    dynamic: bool = False,
) -> compiler_pb2.CompiledWorkflowClosure:
    """Compile and validate ``primary``; raise CompileError naming the author's lines.

    ``launch_plans`` holds (id, TypedInterface, names of inputs with defaults or fixed).
    ``dynamic``: compile a @dynamic task's generated graph (libs/core's compile_dynamic).
    """
    lps = {id_key(i): LaunchPlanInterface(iface, d) for i, iface, d in launch_plans}
    tasks_by_key = {id_key(t.id): t for t in tasks}
    subs_by_key = {id_key(w.id): w for w in subworkflows}
    try:
        if dynamic:
            return compile_dynamic(
                dynamic_job_pb2.DynamicJobSpec(nodes=primary.nodes, outputs=primary.outputs),
                parent_id=primary.id,
                parent_interface=primary.interface,
                tasks=tasks_by_key,
                subworkflows=subs_by_key,
                launch_plans=lps,
            )
        return compile_workflow(
            primary, tasks=tasks_by_key, subworkflows=subs_by_key, launch_plans=lps
        )
    except CompilationFailed as err:
        raise _translate(err.errors, where, locations) from err


def _translate(
    errors: Iterable[CoreCompileError], where: str, locations: Mapping[str, str]
) -> CompileError:
    lines = []
    first_loc, first_code, first_node = "", "", ""
    name = where.split(" (", 1)[0]
    for e in errors:
        loc = e.source_location or locations.get(e.node_id, "")
        prefix = f"{name} ({loc})" if loc else where
        detail = f" [{e.field_path}]" if e.field_path else ""
        lines.append(f"{prefix}: {e.message}{detail}")
        if not first_code:
            first_loc, first_code, first_node = loc, e.code, e.node_id
    return CompileError("\n".join(lines), location=first_loc, code=first_code, node_id=first_node)
