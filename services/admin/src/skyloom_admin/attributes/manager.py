"""Attribute rules: scope validation, storage, and the effective view executions get."""

from __future__ import annotations

from skyloom_admin.attributes.repository import AttributeRepository
from skyloom_admin.attributes.resolve import resolve
from skyloom_admin.projects.manager import ProjectManager
from skyloom_admin.validation import check_text, violations_of
from skyloom_common.errors import FieldViolation, InvalidArgument, NotFound
from skyloom_core.names import validate_name
from skyloom_idl.admin import attributes_pb2

__all__ = ["AttributeManager"]

Scope = attributes_pb2.AttributesScope
Attrs = attributes_pb2.MatchingAttributes


class AttributeManager:
    """``effective(project, domain, workflow, launch_plan=...)`` is what CreateExecution uses."""

    def __init__(
        self, repository: AttributeRepository, projects: ProjectManager, config: Attrs
    ) -> None:
        self._repo = repository
        self._projects = projects
        self._config = config

    def _check_scope(self, scope: Scope, path: str) -> None:
        self._projects.check_scope(
            scope.project,
            scope.domain or self._projects.domains[0],
            project_path=f"{path}.project",
            domain_path=f"{path}.domain",
        )
        violations: list[FieldViolation] = []
        if scope.domain:
            violations += self._projects.domain_violations(scope.domain, f"{path}.domain")
        if scope.workflow:
            if not scope.domain:
                violations.append(
                    FieldViolation(f"{path}.workflow", "a workflow scope needs a domain")
                )
            violations += violations_of(validate_name(scope.workflow, f"{path}.workflow"))
        if violations:
            raise InvalidArgument("invalid scope", violations=violations)

    async def update(self, scoped: attributes_pb2.ScopedAttributes) -> None:
        self._check_scope(scoped.scope, "attributes.scope")
        violations = check_text(
            scoped.attributes.execution_queue, "attributes.attributes.execution_queue", limit=253
        )
        violations += check_text(
            scoped.attributes.cluster, "attributes.attributes.cluster", limit=253
        )
        for i, quota in enumerate(scoped.attributes.quota.resource_quotas):
            if quota.limit < 1:
                violations.append(
                    FieldViolation(
                        f"attributes.attributes.quota.resource_quotas[{i}].limit",
                        "must be at least 1",
                    )
                )
        if violations:
            raise InvalidArgument("invalid attributes", violations=violations)
        await self._projects.require_exists(scoped.scope.project, "attributes.scope.project")
        await self._repo.put(scoped.scope, scoped.attributes)

    async def get(self, scope: Scope, effective: bool) -> Attrs:
        self._check_scope(scope, "scope")
        if effective:
            return await self.effective(scope.project, scope.domain, scope.workflow)
        stored = (await self._repo.get_many([scope])).get(
            (scope.project, scope.domain, scope.workflow)
        )
        if stored is None:
            raise NotFound(
                "no attributes stored at this scope", resource=f"attributes:{scope.project}"
            )
        return stored

    async def delete(self, scope: Scope) -> None:
        self._check_scope(scope, "scope")
        await self._repo.delete(scope)

    async def list_scoped(self, project: str) -> list[attributes_pb2.ScopedAttributes]:
        if project:
            self._projects.check_scope(
                project, self._projects.domains[0], project_path="project", domain_path="project"
            )
        return await self._repo.list(project)

    async def effective(
        self, project: str, domain: str, workflow: str = "", *, launch_plan: Attrs | None = None
    ) -> Attrs:
        """The merged attributes for an execution in (project, domain) of ``workflow``, with
        ``launch_plan`` (see ``resolve.launch_plan_layer``) as the most specific layer."""
        scopes = [Scope(project=project)]
        if domain:
            scopes.append(Scope(project=project, domain=domain))
            if workflow:
                scopes.append(Scope(project=project, domain=domain, workflow=workflow))
        stored = await self._repo.get_many(scopes)
        return resolve(
            [
                launch_plan,
                stored.get((project, domain, workflow)) if workflow else None,
                stored.get((project, domain, "")) if domain else None,
                stored.get((project, "", "")),
                self._config,
            ]
        )
