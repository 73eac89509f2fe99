"""RegisterProject, UpdateProject, GetProject, ListProjects, GetDomains."""

from __future__ import annotations

from skyloom_admin.authz import VIEWER, visible_projects
from skyloom_admin.projects.manager import ProjectManager
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import project_pb2 as pb

__all__ = ["ProjectRpcs"]


class ProjectRpcs:
    projects: ProjectManager

    async def RegisterProject(
        self, request: pb.RegisterProjectRequest, call: RpcCall
    ) -> pb.RegisterProjectResponse:
        return pb.RegisterProjectResponse(project=await self.projects.register(request.project))

    async def UpdateProject(
        self, request: pb.UpdateProjectRequest, call: RpcCall
    ) -> pb.UpdateProjectResponse:
        return pb.UpdateProjectResponse(project=await self.projects.update(request.project))

    async def GetProject(
        self, request: pb.GetProjectRequest, call: RpcCall
    ) -> pb.GetProjectResponse:
        return pb.GetProjectResponse(project=await self.projects.get(request.id))

    async def ListProjects(
        self, request: pb.ListProjectsRequest, call: RpcCall
    ) -> pb.ListProjectsResponse:
        projects, token = await self.projects.list_projects(
            request, visible_projects(call.principal, VIEWER)
        )
        return pb.ListProjectsResponse(projects=projects, next_token=token)

    async def GetDomains(
        self, request: pb.GetDomainsRequest, call: RpcCall
    ) -> pb.GetDomainsResponse:
        return pb.GetDomainsResponse(domains=self.projects.domain_messages())
