"""Pure parts of CreateExecution: request checks, input merging, the effective spec, the
single-task wrapper workflow and the work items. No I/O here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from skyloom_common.errors import FieldViolation, InvalidArgument
from skyloom_core import compiler, names, sizes, validation
from skyloom_core.errors import CompilationFailed, Violation
from skyloom_core.refs import id_key
from skyloom_idl.admin import attributes_pb2, execution_pb2, launch_plan_pb2, task_pb2
from skyloom_idl.core import (
    compiler_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    types_pb2,
    workflow_pb2,
)

__all__ = [
    "Target",
    "check_create",
    "effective_spec",
    "generate_name",
    "merge_inputs",
    "raise_violations",
    "single_task_target",
    "with_fixed",
    "work_id",
    "work_shard",
]


@dataclass(frozen=True)
class Target:
    """What an execution runs: the workflow, its compiled closure and the bound inputs."""

    workflow_id: identifier_pb2.Identifier
    closure: compiler_pb2.CompiledWorkflowClosure
    expected: interface_pb2.ParameterMap
    fixed: literals_pb2.LiteralMap
    launch_plan: launch_plan_pb2.LaunchPlan | None = None


def raise_violations(violations: list[Violation], what: str) -> None:
    if violations:
        summary = "; ".join(str(v) for v in violations[:5])
        more = f" (and {len(violations) - 5} more)" if len(violations) > 5 else ""
        raise InvalidArgument(
            f"{what}: {summary}{more}",
            violations=[FieldViolation(v.field_path, v.message) for v in violations],
        )


def check_create(request: execution_pb2.CreateExecutionRequest, *, max_inline_bytes: int) -> None:
    """Names, the target and the inline size limit; every violation at once."""
    out = names.validate_project(request.project, "project")
    out += names.validate_domain(request.domain, "domain")
    if request.name:
        out += names.validate_execution_name(request.name, "name")
    kind = request.spec.WhichOneof("target")
    if kind is None:
        out.append(Violation("spec.target", "set spec.launch_plan or spec.task", "MissingTarget"))
    else:
        target = getattr(request.spec, kind)
        out += names.validate_identifier(target, f"spec.{kind}")
        if not out and (target.project, target.domain) != (request.project, request.domain):
            out.append(Violation(f"spec.{kind}", "must be in the execution's project and domain"))
    out += sizes.check_literal_limits(request.inputs, max_bytes=max_inline_bytes)
    raise_violations(out, "invalid CreateExecution request")


def generate_name() -> str:
    """A unique DNS-1123 label of 20 characters, starting with a letter."""
    return "a" + secrets.token_hex(10)[:19]


def merge_inputs(
    given: literals_pb2.LiteralMap,
    expected: interface_pb2.ParameterMap,
    fixed: literals_pb2.LiteralMap,
) -> literals_pb2.LiteralMap:
    """Validate ``given`` against the expected inputs (fixed ones may not be set) and return
    defaults + fixed + given; ``InvalidArgument`` listing every problem with its path."""
    raise_violations(
        validation.validate_inputs(given, expected, fixed_inputs=fixed), "invalid inputs"
    )
    merged = literals_pb2.LiteralMap()
    for name, parameter in expected.parameters.items():
        if parameter.HasField("default"):
            merged.literals[name].CopyFrom(parameter.default)
    for name, literal in fixed.literals.items():
        merged.literals[name].CopyFrom(literal)
    for name, literal in given.literals.items():
        merged.literals[name].CopyFrom(literal)
    return merged


def with_fixed(
    expected: interface_pb2.ParameterMap,
    fixed: literals_pb2.LiteralMap,
    workflow_inputs: interface_pb2.VariableMap,
) -> interface_pb2.ParameterMap:
    """The launch plan's expected inputs plus its fixed ones (typed from the workflow), so a
    caller setting a fixed input is told it is fixed, not that it is unknown."""
    out = interface_pb2.ParameterMap()
    out.CopyFrom(expected)
    for name in fixed.literals:
        if name not in out.parameters and name in workflow_inputs.variables:
            out.parameters[name].var.CopyFrom(workflow_inputs.variables[name])
            out.parameters[name].required = False
    return out


def _parameters(variables: interface_pb2.VariableMap) -> interface_pb2.ParameterMap:
    out = interface_pb2.ParameterMap()
    for name, variable in variables.variables.items():
        out.parameters[name].var.CopyFrom(variable)
        out.parameters[name].required = True
    return out


def single_task_target(task: task_pb2.Task) -> Target:
    """Wrap a task in a one-node workflow (Flyte's single_task_execution): the workflow has the
    task's id (resource type WORKFLOW) and interface, node ``n0`` binds every input."""
    template = task.closure.compiled_task.template
    iface = template.interface
    workflow_id = identifier_pb2.Identifier()
    workflow_id.CopyFrom(task.id)
    workflow_id.resource_type = identifier_pb2.RESOURCE_TYPE_WORKFLOW
    node = workflow_pb2.Node(
        id="n0",
        metadata=workflow_pb2.NodeMetadata(name=task.id.name),
        inputs=[
            literals_pb2.Binding(
                var=name,
                binding=literals_pb2.BindingData(
                    promise=types_pb2.OutputReference(node_id=compiler.START_NODE, var=name)
                ),
            )
            for name in iface.inputs.variables
        ],
        task_node=workflow_pb2.TaskNode(reference_id=task.id),
    )
    wf = workflow_pb2.WorkflowTemplate(
        id=workflow_id,
        interface=iface,
        nodes=[node],
        outputs=[
            literals_pb2.Binding(
                var=name,
                binding=literals_pb2.BindingData(
                    promise=types_pb2.OutputReference(node_id="n0", var=name)
                ),
            )
            for name in iface.outputs.variables
        ],
    )
    try:
        closure = compiler.compile_workflow(wf, tasks={id_key(task.id): template})
    except CompilationFailed as exc:  # a registered task always wraps; be explicit anyway
        raise InvalidArgument.for_field("spec.task", f"cannot wrap the task: {exc}") from None
    return Target(workflow_id, closure, _parameters(iface.inputs), literals_pb2.LiteralMap())


def effective_spec(
    spec: execution_pb2.ExecutionSpec,
    launch_plan: launch_plan_pb2.LaunchPlan | None,
    attributes: attributes_pb2.MatchingAttributes,
) -> execution_pb2.ExecutionSpec:
    """The spec as the engine gets it: execution overrides > launch plan > attributes."""
    out = execution_pb2.ExecutionSpec()
    out.CopyFrom(spec)
    lp = launch_plan.spec if launch_plan is not None else None
    if lp is not None:
        if not spec.HasField("notifications"):
            out.notifications.notifications.extend(lp.notifications)
        labels: Mapping[str, str] = {**lp.labels.values, **spec.labels.values}
        annotations = {**lp.annotations.values, **spec.annotations.values}
        out.labels.values.update(labels)
        out.annotations.values.update(annotations)
        if not spec.HasField("security_context") and lp.HasField("security_context"):
            out.security_context.CopyFrom(lp.security_context)
        if not spec.HasField("max_parallelism") and lp.HasField("max_parallelism"):
            out.max_parallelism = lp.max_parallelism
        if not spec.HasField("raw_output_data_config"):
            out.raw_output_data_config.CopyFrom(lp.raw_output_data_config)
        out.overwrite_cache = spec.overwrite_cache or lp.overwrite_cache
        if not spec.HasField("interruptible") and lp.HasField("interruptible"):
            out.interruptible = lp.interruptible
    if not out.HasField("max_parallelism") and attributes.HasField("max_parallelism"):
        out.max_parallelism = attributes.max_parallelism
    out.queue = out.queue or attributes.execution_queue
    out.cluster = out.cluster or attributes.cluster
    return out


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace(":", "%3A")


def work_id(kind: str, execution: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    """``start:<project>:<domain>:<execution>`` or ``abort:...`` (skyloom/event/work.proto)."""
    return ":".join(
        [kind, _escape(execution.project), _escape(execution.domain), _escape(execution.name)]
    )


def work_shard(execution: identifier_pb2.WorkflowExecutionIdentifier, shards: int) -> int:
    """The shard every work item of one execution goes to (stable across processes)."""
    key = f"{execution.project}/{execution.domain}/{execution.name}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % max(shards, 1)
