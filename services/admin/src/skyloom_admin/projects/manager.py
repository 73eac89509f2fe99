"""Project rules: DNS-1123 ids, archive state, and the configured domains."""

from __future__ import annotations

from collections.abc import Sequence

from skyloom_admin.projects.repository import ProjectRepository
from skyloom_admin.validation import check_labels, check_text, violations_of
from skyloom_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from skyloom_core.names import validate_domain, validate_project
from skyloom_idl.admin import project_pb2

__all__ = ["ProjectManager"]

State = project_pb2.Project.State
_MAX_TEXT = 1024


class ProjectManager:
    def __init__(self, repository: ProjectRepository, domains: Sequence[str]) -> None:
        self._repo = repository
        self.domains = tuple(domains)

    def domain_messages(self) -> list[project_pb2.Domain]:
        return [project_pb2.Domain(id=d, name=d) for d in self.domains]

    def _validate(self, project: project_pb2.Project, path: str) -> project_pb2.Project:
        violations = violations_of(validate_project(project.id, f"{path}.id"))
        violations += check_text(project.name, f"{path}.name", limit=_MAX_TEXT)
        violations += check_text(project.description, f"{path}.description", limit=_MAX_TEXT)
        violations += check_labels(project.labels.values, f"{path}.labels")
        if project.state not in State.values():
            violations.append(FieldViolation(f"{path}.state", "unknown state"))
        if violations:
            raise InvalidArgument("invalid project", violations=violations)
        clean = project_pb2.Project()
        clean.CopyFrom(project)
        clean.ClearField("domains")
        clean.ClearField("created_at")
        clean.ClearField("updated_at")
        clean.name = clean.name or clean.id
        clean.state = clean.state or State.STATE_ACTIVE
        return clean

    def _out(self, project: project_pb2.Project) -> project_pb2.Project:
        project.domains.extend(self.domain_messages())
        return project

    async def register(self, project: project_pb2.Project) -> project_pb2.Project:
        clean = self._validate(project, "project")
        if await self._repo.get(clean.id) is not None:
            raise AlreadyExists(f"project {clean.id!r} already exists", reason="PROJECT_EXISTS")
        return self._out(await self._repo.insert(clean))

    async def update(self, project: project_pb2.Project) -> project_pb2.Project:
        clean = self._validate(project, "project")
        updated = await self._repo.update(clean)
        if updated is None:
            raise NotFound(f"no project {clean.id!r}", resource=f"project:{clean.id}")
        return self._out(updated)

    async def get(self, project_id: str, path: str = "id") -> project_pb2.Project:
        violations = violations_of(validate_project(project_id, path))
        if violations:
            raise InvalidArgument("invalid project id", violations=violations)
        project = await self._repo.get(project_id)
        if project is None:
            raise NotFound(f"no project {project_id!r}", resource=f"project:{project_id}")
        return self._out(project)

    async def list_projects(
        self, request: project_pb2.ListProjectsRequest, visible: frozenset[str] | None
    ) -> tuple[list[project_pb2.Project], str]:
        projects, token = await self._repo.list(request, visible)
        return [self._out(p) for p in projects], token

    async def require_active(
        self, project: str, domain: str, *, project_path: str, domain_path: str
    ) -> None:
        """For writes into (project, domain): both valid, the project registered and not
        archived, the domain configured. Raises INVALID_ARGUMENT / NOT_FOUND /
        FAILED_PRECONDITION."""
        self.check_scope(project, domain, project_path=project_path, domain_path=domain_path)
        found = await self._repo.get(project)
        if found is None:
            raise NotFound(f"no project {project!r}", resource=f"project:{project}")
        if found.state == State.STATE_ARCHIVED:
            raise FailedPrecondition(f"project {project!r} is archived", reason="PROJECT_ARCHIVED")

    async def require_exists(self, project: str, path: str = "project") -> None:
        await self.get(project, path)

    def check_scope(
        self, project: str, domain: str, *, project_path: str, domain_path: str
    ) -> None:
        violations = violations_of(validate_project(project, project_path))
        violations += self.domain_violations(domain, domain_path)
        if violations:
            raise InvalidArgument("invalid project or domain", violations=violations)

    def domain_violations(self, domain: str, path: str) -> list[FieldViolation]:
        found = violations_of(validate_domain(domain, path))
        if not found and domain not in self.domains:
            found.append(
                FieldViolation(path, f"unknown domain {domain!r}; one of {list(self.domains)}")
            )
        return found
