"""Projects (tenants) and the configured domains."""

from skyloom_admin.projects.manager import ProjectManager
from skyloom_admin.projects.repository import PostgresProjects, ProjectRepository
from skyloom_admin.projects.rpcs import ProjectRpcs

__all__ = ["PostgresProjects", "ProjectManager", "ProjectRepository", "ProjectRpcs"]
