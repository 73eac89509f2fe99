"""Registration rules for tasks, workflows and launch plans (no grpc here).

Immutable by (project, domain, name, version): identical content again is a no-op
(``created=False``), different content is ``ALREADY_EXISTS`` with the differing field paths.
Workflows are compiled (libs/core) against the tasks, subworkflows and launch plans already
registered in the same project and domain, and stored with their compiled closure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.message import Message

from skyloom_admin.projects.manager import ProjectManager
from skyloom_admin.registry.convert import announce, launch_plan_of, lp_interface
from skyloom_admin.registry.diff import describe_diff
from skyloom_admin.registry.launch_plans import (
    expected_inputs,
    has_execution_triggers,
    trigger_cycles,
    validate_spec,
)
from skyloom_admin.registry.references import references_of
from skyloom_admin.registry.repository import (
    EntityRow,
    LaunchPlanRow,
    RegistryRepository,
    Table,
    VetActivation,
)
from skyloom_admin.validation import violations_of
from skyloom_common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from skyloom_core.compiler import CompilationFailed, LaunchPlanInterface, compile_workflow
from skyloom_core.names import validate_identifier, validate_project
from skyloom_core.refs import id_key
from skyloom_idl.admin import common_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from skyloom_idl.core import compiler_pb2, identifier_pb2, interface_pb2, tasks_pb2

__all__ = ["Created", "RegistryManager", "digest_of"]

ResourceType = identifier_pb2.ResourceType
State = launch_plan_pb2.LaunchPlan.State
_MAX_REFERENCES = 2  # enough to tell "one match" from "ambiguous"
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # placeholder: the database sets created_at


def digest_of(message: Message) -> str:
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


@dataclass(frozen=True)
class Created:
    created: bool
    digest: str


def _check_id(
    id: identifier_pb2.Identifier, resource_type: int, path: str = "id"
) -> list[FieldViolation]:
    out = violations_of(validate_identifier(id, path))
    if id.resource_type != resource_type:
        out.append(
            FieldViolation(f"{path}.resource_type", f"must be {ResourceType.Name(resource_type)}")  # type: ignore[arg-type]
        )
    return out


def _same_id(
    given: identifier_pb2.Identifier, id: identifier_pb2.Identifier, path: str
) -> list[FieldViolation]:
    a = (given.project, given.domain, given.name, given.version)
    b = (id.project, id.domain, id.name, id.version)
    return [] if a == b else [FieldViolation(path, "must equal the request's id")]


def _raise(violations: list[FieldViolation], what: str, reason: str | None = None) -> None:
    if violations:
        raise InvalidArgument(
            f"invalid {what}: " + "; ".join(f"{v.field}: {v.description}" for v in violations[:5]),
            violations=violations,
            reason=reason,
        )


class RegistryManager:
    def __init__(self, repository: RegistryRepository, projects: ProjectManager) -> None:
        self._repo = repository
        self._projects = projects

    async def _writable(self, id: identifier_pb2.Identifier) -> None:
        await self._projects.require_active(
            id.project, id.domain, project_path="id.project", domain_path="id.domain"
        )

    async def _store(
        self, table: Table, row: EntityRow, old_of: type[Message], spec: Message, path: str
    ) -> Created:
        existing = await self._repo.insert_entity(table, row)
        if existing is None:
            return Created(True, row.digest)
        if existing.digest == row.digest:
            return Created(False, row.digest)
        old = old_of()
        old.ParseFromString(existing.closure)
        what = table[:-1].replace("_", " ")
        raise AlreadyExists(
            f"{what} {id_key(row.id)} is already registered with other content",
            diff=describe_diff(_spec_of(old), spec, path),
            reason="DIFFERENT_CONTENT",
        )

    # -- tasks ---------------------------------------------------------------------------

    async def create_task(self, request: task_pb2.CreateTaskRequest) -> Created:
        violations = _check_id(request.id, ResourceType.RESOURCE_TYPE_TASK)
        template = request.spec.template
        if not request.spec.HasField("template"):
            violations.append(FieldViolation("spec.template", "is required"))
        else:
            violations += _same_id(template.id, request.id, "spec.template.id")
            if not template.type:
                violations.append(FieldViolation("spec.template.type", "is required"))
        _raise(violations, "task")
        await self._writable(request.id)
        compiled = compiler_pb2.CompiledTask(template=template)
        compiled.template.id.resource_type = ResourceType.RESOURCE_TYPE_TASK
        digest = digest_of(compiled)
        closure = task_pb2.TaskClosure(compiled_task=compiled, digest=digest)
        row = EntityRow(request.id, digest, closure.SerializeToString(), _NO_TIME)
        return await self._store(
            "tasks", row, task_pb2.TaskClosure, compiled.template, "spec.template"
        )

    async def get_task(self, id: identifier_pb2.Identifier) -> task_pb2.Task:
        return self.task_of(await self._get("tasks", id, ResourceType.RESOURCE_TYPE_TASK))

    # -- workflows -----------------------------------------------------------------------

    async def create_workflow(self, request: workflow_pb2.CreateWorkflowRequest) -> Created:
        violations = _check_id(request.id, ResourceType.RESOURCE_TYPE_WORKFLOW)
        if not request.spec.HasField("template"):
            violations.append(FieldViolation("spec.template", "is required"))
        else:
            violations += _same_id(request.spec.template.id, request.id, "spec.template.id")
        for i, sub in enumerate(request.spec.sub_workflows):
            violations += violations_of(validate_identifier(sub.id, f"spec.sub_workflows[{i}].id"))
        _raise(violations, "workflow")
        await self._writable(request.id)
        closure = await self._compile(request.id, request.spec)
        digest = digest_of(closure)
        stored = workflow_pb2.WorkflowClosure(compiled_workflow=closure, digest=digest)
        row = EntityRow(request.id, digest, stored.SerializeToString(), _NO_TIME)
        return await self._store(
            "workflows", row, workflow_pb2.WorkflowClosure, closure, "compiled_workflow"
        )

    async def _compile(
        self, id: identifier_pb2.Identifier, spec: workflow_pb2.WorkflowSpec
    ) -> compiler_pb2.CompiledWorkflowClosure:
        tasks: dict[str, tasks_pb2.TaskTemplate] = {}
        subs = {id_key(s.id): s for s in spec.sub_workflows}
        plans: dict[str, interface_pb2.TypedInterface | LaunchPlanInterface] = {}
        pending = [spec.template, *spec.sub_workflows]
        seen_subs: set[str] = set(subs)
        looked_up: set[tuple[str, str]] = set()

        def first_time(kind: str, ref: identifier_pb2.Identifier) -> bool:
            key = (kind, id_key(ref))
            if key in looked_up:
                return False
            looked_up.add(key)
            return True

        while pending:
            refs = references_of(pending.pop())
            refs.tasks = [r for r in refs.tasks if first_time("task", r)]
            refs.subworkflows = [r for r in refs.subworkflows if first_time("workflow", r)]
            refs.launch_plans = [r for r in refs.launch_plans if first_time("plan", r)]
            for ref in refs.tasks:
                for row in await self._find("tasks", id, ref):
                    tasks[id_key(row.id)] = task_pb2.TaskClosure.FromString(
                        row.closure
                    ).compiled_task.template
            for ref in refs.subworkflows:
                for row in await self._find("workflows", id, ref):
                    key = id_key(row.id)
                    if key in seen_subs:
                        continue
                    seen_subs.add(key)
                    compiled = workflow_pb2.WorkflowClosure.FromString(
                        row.closure
                    ).compiled_workflow
                    subs[key] = compiled.primary.template
                    for inner in compiled.sub_workflows:
                        subs.setdefault(id_key(inner.template.id), inner.template)
                    for task in compiled.tasks:
                        tasks.setdefault(id_key(task.template.id), task.template)
            for ref in refs.launch_plans:
                for lp in await self._find_launch_plans(id, ref):
                    plans[id_key(lp.id)] = lp_interface(lp)
        try:
            return compile_workflow(
                spec.template,
                tasks=tasks,
                subworkflows=subs,
                launch_plans=plans,
            )
        except CompilationFailed as failed:
            violations = [
                FieldViolation(
                    f"spec.{e.field_path}"
                    if e.field_path.startswith("sub_workflows")
                    else f"spec.template.{e.field_path}".rstrip("."),
                    f"[{e.code}] {e.message}",
                )
                for e in failed.errors
            ]
            _raise(violations, "workflow", reason="COMPILATION_FAILED")
            raise

    async def _find(
        self, table: Table, owner: identifier_pb2.Identifier, ref: identifier_pb2.Identifier
    ) -> Sequence[EntityRow]:
        # References resolve inside the registering project and domain only: a workflow
        # never pulls another tenant's tasks into its closure.
        scoped = identifier_pb2.Identifier(
            project=owner.project, domain=owner.domain, name=ref.name, version=ref.version
        )
        if (ref.project and ref.project != owner.project) or (
            ref.domain and ref.domain != owner.domain
        ):
            return []
        return await self._repo.find_entities(table, scoped, _MAX_REFERENCES)

    async def _find_launch_plans(
        self, owner: identifier_pb2.Identifier, ref: identifier_pb2.Identifier
    ) -> list[launch_plan_pb2.LaunchPlan]:
        if (ref.project and ref.project != owner.project) or (
            ref.domain and ref.domain != owner.domain
        ):
            return []
        if ref.version:
            scoped = identifier_pb2.Identifier(
                project=owner.project, domain=owner.domain, name=ref.name, version=ref.version
            )
            row = await self._repo.get_launch_plan(scoped)
        else:
            row = await self._repo.get_active_launch_plan(owner.project, owner.domain, ref.name)
        return [] if row is None else [launch_plan_of(row)]

    async def get_workflow(self, id: identifier_pb2.Identifier) -> workflow_pb2.Workflow:
        return self.workflow_of(
            await self._get("workflows", id, ResourceType.RESOURCE_TYPE_WORKFLOW)
        )

    @staticmethod
    def workflow_of(row: EntityRow) -> workflow_pb2.Workflow:
        closure = workflow_pb2.WorkflowClosure.FromString(row.closure)
        closure.created_at.FromDatetime(row.created_at)
        return workflow_pb2.Workflow(id=row.id, closure=closure)

    @staticmethod
    def task_of(row: EntityRow) -> task_pb2.Task:
        closure = task_pb2.TaskClosure.FromString(row.closure)
        closure.created_at.FromDatetime(row.created_at)
        return task_pb2.Task(id=row.id, closure=closure)

    async def _get(self, table: Table, id: identifier_pb2.Identifier, kind: int) -> EntityRow:
        violations = violations_of(validate_identifier(id, "id"))
        _raise(violations, "id")
        row = await self._repo.get_entity(table, id)
        if row is None:
            raise NotFound(f"{table[:-1]} {id_key(id)} is not registered", resource=id_key(id))
        return row

    async def list_entities(
        self,
        table: Table,
        id: identifier_pb2.NamedEntityIdentifier,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
    ) -> tuple[Sequence[EntityRow], str]:
        self._projects.check_scope(
            id.project, id.domain, project_path="id.project", domain_path="id.domain"
        )
        return await self._repo.list_entities(
            table, id.project, id.domain, id.name, filters, sort, page
        )

    async def list_ids(
        self,
        table: Table,
        project: str,
        domain: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
    ) -> tuple[list[identifier_pb2.NamedEntityIdentifier], str]:
        self._projects.check_scope(project, domain, project_path="project", domain_path="domain")
        names, token = await self._repo.list_ids(table, project, domain, filters, sort, page)
        ids = [
            identifier_pb2.NamedEntityIdentifier(project=project, domain=domain, name=n)
            for n in names
        ]
        return ids, token

    # -- launch plans --------------------------------------------------------------------

    async def create_launch_plan(self, request: launch_plan_pb2.CreateLaunchPlanRequest) -> Created:
        spec = request.spec
        violations = _check_id(request.id, ResourceType.RESOURCE_TYPE_LAUNCH_PLAN)
        if not spec.HasField("workflow_id"):
            violations.append(FieldViolation("spec.workflow_id", "is required"))
        else:
            violations += violations_of(validate_identifier(spec.workflow_id, "spec.workflow_id"))
            if (spec.workflow_id.project, spec.workflow_id.domain) != (
                request.id.project,
                request.id.domain,
            ):
                violations.append(
                    FieldViolation(
                        "spec.workflow_id", "must be in the launch plan's project and domain"
                    )
                )
        _raise(violations, "launch plan")
        await self._writable(request.id)
        workflow_row = await self._repo.get_entity("workflows", spec.workflow_id)
        if workflow_row is None:
            raise NotFound(
                f"workflow {id_key(spec.workflow_id)} is not registered",
                resource=id_key(spec.workflow_id),
                reason="WORKFLOW_NOT_FOUND",
            )
        compiled = workflow_pb2.WorkflowClosure.FromString(workflow_row.closure).compiled_workflow
        interface = compiled.primary.template.interface
        _raise(validate_spec(spec, interface), "launch plan")
        stored_spec = launch_plan_pb2.LaunchPlanSpec()
        stored_spec.CopyFrom(spec)
        stored_spec.workflow_id.resource_type = ResourceType.RESOURCE_TYPE_WORKFLOW
        digest = digest_of(stored_spec)
        closure = launch_plan_pb2.LaunchPlanClosure(
            state=State.STATE_INACTIVE,
            expected_inputs=expected_inputs(spec, interface),
            expected_outputs=interface.outputs,
            digest=digest,
        )
        row = LaunchPlanRow(
            request.id,
            digest,
            stored_spec.SerializeToString(),
            closure.SerializeToString(),
            State.STATE_INACTIVE,
            _NO_TIME,
            _NO_TIME,
        )
        existing = await self._repo.insert_launch_plan(
            row, spec.workflow_id, spec.HasField("schedule"), bool(spec.triggers)
        )
        if existing is None:
            return Created(True, digest)
        if existing.digest == digest:
            return Created(False, digest)
        raise AlreadyExists(
            f"launch plan {id_key(request.id)} is already registered with other content",
            diff=describe_diff(
                launch_plan_pb2.LaunchPlanSpec.FromString(existing.spec), stored_spec, "spec"
            ),
            reason="DIFFERENT_CONTENT",
        )

    async def get_launch_plan(self, id: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
        _raise(violations_of(validate_identifier(id, "id")), "id")
        row = await self._repo.get_launch_plan(id)
        if row is None:
            raise NotFound(f"launch plan {id_key(id)} is not registered", resource=id_key(id))
        return launch_plan_of(row)

    async def get_active_launch_plan(
        self, id: identifier_pb2.NamedEntityIdentifier
    ) -> launch_plan_pb2.LaunchPlan:
        violations = violations_of(
            validate_identifier(
                identifier_pb2.Identifier(project=id.project, domain=id.domain, name=id.name),
                "id",
                require_version=False,
            )
        )
        _raise(violations, "id")
        row = await self._repo.get_active_launch_plan(id.project, id.domain, id.name)
        if row is None:
            raise NotFound(
                f"launch plan {id.project}/{id.domain}/{id.name} has no active version",
                resource=f"{id.project}/{id.domain}/{id.name}",
            )
        return launch_plan_of(row)

    async def list_launch_plans(
        self,
        project: str,
        domain: str,
        name: str,
        filters: Sequence[common_pb2.Filter],
        sort: common_pb2.Sort,
        page: common_pb2.PageRequest,
        *,
        active_only: bool = False,
        path: str = "id.",
    ) -> tuple[list[launch_plan_pb2.LaunchPlan], str]:
        if not active_only:
            self._projects.check_scope(
                project, domain, project_path=f"{path}project", domain_path=f"{path}domain"
            )
        else:
            # Active lists may span every project, or every domain of one project.
            violations = (
                violations_of(validate_project(project, f"{path}project")) if project else []
            )
            if domain:
                violations += self._projects.domain_violations(domain, f"{path}domain")
                if not project:
                    violations.append(FieldViolation(f"{path}project", "is required with a domain"))
            _raise(violations, "scope")
        rows, token = await self._repo.list_launch_plans(
            project, domain, name, filters, sort, page, active_only=active_only
        )
        return [launch_plan_of(r) for r in rows], token

    async def update_launch_plan(
        self, id: identifier_pb2.Identifier, state: int
    ) -> launch_plan_pb2.LaunchPlan:
        """Activate or deactivate one version (ADR 0094). An activation whose execution
        triggers would close a cycle among the active launch plans is ``INVALID_ARGUMENT`` at
        ``spec.triggers[i].on_execution.launch_plan``, naming the loop; nothing is written."""
        _raise(violations_of(validate_identifier(id, "id")), "id")
        if state not in (State.STATE_ACTIVE, State.STATE_INACTIVE):
            _raise([FieldViolation("state", "must be STATE_ACTIVE or STATE_INACTIVE")], "state")
        vet: VetActivation | None = None
        if state == State.STATE_ACTIVE:
            # A version's spec never changes, so reading it before the transaction is safe.
            stored = await self._repo.get_launch_plan(id)
            if stored is None:
                raise NotFound(f"launch plan {id_key(id)} is not registered", resource=id_key(id))
            spec = launch_plan_pb2.LaunchPlanSpec.FromString(stored.spec)
            if has_execution_triggers(spec):

                def vet(active: Mapping[tuple[str, str, str], bytes]) -> None:
                    _raise(trigger_cycles(id, spec, active), "activation", "TRIGGER_CYCLE")

        row = await self._repo.set_launch_plan_state(id, state, announce, vet)
        if row is None:
            raise NotFound(f"launch plan {id_key(id)} is not registered", resource=id_key(id))
        return launch_plan_of(row)


def _spec_of(closure: Message) -> Message:
    if isinstance(closure, task_pb2.TaskClosure):
        return closure.compiled_task.template
    if isinstance(closure, workflow_pb2.WorkflowClosure):
        return closure.compiled_workflow
    return closure
