"""Task, workflow and launch plan RPCs: thin adapters onto :class:`RegistryManager`."""

from __future__ import annotations

from skyloom_admin.registry.manager import RegistryManager
from skyloom_common.rpc import RpcCall
from skyloom_idl.admin import launch_plan_pb2 as lp
from skyloom_idl.admin import task_pb2 as tk
from skyloom_idl.admin import workflow_pb2 as wf

__all__ = ["LaunchPlanRpcs", "TaskRpcs", "WorkflowRpcs"]


class TaskRpcs:
    registry: RegistryManager

    async def CreateTask(
        self, request: tk.CreateTaskRequest, call: RpcCall
    ) -> tk.CreateTaskResponse:
        created = await self.registry.create_task(request)
        return tk.CreateTaskResponse(created=created.created, digest=created.digest)

    async def GetTask(self, request: tk.GetTaskRequest, call: RpcCall) -> tk.GetTaskResponse:
        return tk.GetTaskResponse(task=await self.registry.get_task(request.id))

    async def ListTasks(self, request: tk.ListTasksRequest, call: RpcCall) -> tk.ListTasksResponse:
        rows, token = await self.registry.list_entities(
            "tasks", request.id, request.filter_by, request.sort_by, request.page
        )
        tasks = [self.registry.task_of(r) for r in rows]
        return tk.ListTasksResponse(tasks=tasks, next_token=token)

    async def ListTaskIds(
        self, request: tk.ListTaskIdsRequest, call: RpcCall
    ) -> tk.ListTaskIdsResponse:
        ids, token = await self.registry.list_ids(
            "tasks",
            request.project,
            request.domain,
            request.filter_by,
            request.sort_by,
            request.page,
        )
        return tk.ListTaskIdsResponse(ids=ids, next_token=token)


class WorkflowRpcs:
    registry: RegistryManager

    async def CreateWorkflow(
        self, request: wf.CreateWorkflowRequest, call: RpcCall
    ) -> wf.CreateWorkflowResponse:
        created = await self.registry.create_workflow(request)
        return wf.CreateWorkflowResponse(created=created.created, digest=created.digest)

    async def GetWorkflow(
        self, request: wf.GetWorkflowRequest, call: RpcCall
    ) -> wf.GetWorkflowResponse:
        return wf.GetWorkflowResponse(workflow=await self.registry.get_workflow(request.id))

    async def ListWorkflows(
        self, request: wf.ListWorkflowsRequest, call: RpcCall
    ) -> wf.ListWorkflowsResponse:
        rows, token = await self.registry.list_entities(
            "workflows", request.id, request.filter_by, request.sort_by, request.page
        )
        workflows = [self.registry.workflow_of(r) for r in rows]
        return wf.ListWorkflowsResponse(workflows=workflows, next_token=token)

    async def ListWorkflowIds(
        self, request: wf.ListWorkflowIdsRequest, call: RpcCall
    ) -> wf.ListWorkflowIdsResponse:
        ids, token = await self.registry.list_ids(
            "workflows",
            request.project,
            request.domain,
            request.filter_by,
            request.sort_by,
            request.page,
        )
        return wf.ListWorkflowIdsResponse(ids=ids, next_token=token)


class LaunchPlanRpcs:
    registry: RegistryManager

    async def CreateLaunchPlan(
        self, request: lp.CreateLaunchPlanRequest, call: RpcCall
    ) -> lp.CreateLaunchPlanResponse:
        created = await self.registry.create_launch_plan(request)
        return lp.CreateLaunchPlanResponse(created=created.created, digest=created.digest)

    async def GetLaunchPlan(
        self, request: lp.GetLaunchPlanRequest, call: RpcCall
    ) -> lp.GetLaunchPlanResponse:
        return lp.GetLaunchPlanResponse(launch_plan=await self.registry.get_launch_plan(request.id))

    async def GetActiveLaunchPlan(
        self, request: lp.GetActiveLaunchPlanRequest, call: RpcCall
    ) -> lp.GetActiveLaunchPlanResponse:
        found = await self.registry.get_active_launch_plan(request.id)
        return lp.GetActiveLaunchPlanResponse(launch_plan=found)

    async def ListLaunchPlans(
        self, request: lp.ListLaunchPlansRequest, call: RpcCall
    ) -> lp.ListLaunchPlansResponse:
        plans, token = await self.registry.list_launch_plans(
            request.id.project,
            request.id.domain,
            request.id.name,
            request.filter_by,
            request.sort_by,
            request.page,
        )
        return lp.ListLaunchPlansResponse(launch_plans=plans, next_token=token)

    async def ListActiveLaunchPlans(
        self, request: lp.ListActiveLaunchPlansRequest, call: RpcCall
    ) -> lp.ListActiveLaunchPlansResponse:
        plans, token = await self.registry.list_launch_plans(
            request.project,
            request.domain,
            "",
            (),
            request.sort_by,
            request.page,
            active_only=True,
            path="",
        )
        return lp.ListActiveLaunchPlansResponse(launch_plans=plans, next_token=token)

    async def ListLaunchPlanIds(
        self, request: lp.ListLaunchPlanIdsRequest, call: RpcCall
    ) -> lp.ListLaunchPlanIdsResponse:
        ids, token = await self.registry.list_ids(
            "launch_plans",
            request.project,
            request.domain,
            request.filter_by,
            request.sort_by,
            request.page,
        )
        return lp.ListLaunchPlanIdsResponse(ids=ids, next_token=token)

    async def UpdateLaunchPlan(
        self, request: lp.UpdateLaunchPlanRequest, call: RpcCall
    ) -> lp.UpdateLaunchPlanResponse:
        plan = await self.registry.update_launch_plan(request.id, request.state)
        return lp.UpdateLaunchPlanResponse(launch_plan=plan)
