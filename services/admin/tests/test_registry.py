"""Tasks and workflows: registration, immutability, compile errors, get and list."""

from __future__ import annotations

import pytest

from skyloom_common.errors import AlreadyExists, InvalidArgument, NotFound
from skyloom_idl.admin import common_pb2, task_pb2, workflow_pb2
from skyloom_idl.core import identifier_pb2

from .conftest import (
    RT,
    STR,
    Running,
    fails,
    ident,
    register_task,
    task_template,
    workflow_template,
)

pytestmark = pytest.mark.integration


def create_task(template: object) -> task_pb2.CreateTaskRequest:
    assert hasattr(template, "id")
    return task_pb2.CreateTaskRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))  # type: ignore[arg-type]


async def test_task_registration_is_idempotent_and_immutable(admin: Running, project: str) -> None:
    template = task_template()
    first = await admin.stub.CreateTask(create_task(template))
    again = await admin.stub.CreateTask(create_task(template))
    assert (first.created, again.created) == (True, False)
    assert first.digest == again.digest

    changed = task_template()
    changed.container.image = "python:3.12"
    error = await fails(admin.stub.CreateTask(create_task(changed)))
    assert isinstance(error, AlreadyExists)
    assert error.diff is not None
    assert "spec.template.container.image: 'python:3.11' -> 'python:3.12'" in error.diff
    assert await admin.count("tasks") == 1

    got = await admin.stub.GetTask(task_pb2.GetTaskRequest(id=template.id))
    assert got.task.closure.compiled_task.template.container.image == "python:3.11"
    assert got.task.closure.digest == first.digest
    assert got.task.closure.created_at.seconds > 0


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("../escape", "id.name"),
        ("nul\x00", "id.name"),
        ("ctl\x1b", "id.name"),
        ("n" * 256, "id.name"),
    ],
)
async def test_bad_task_names(admin: Running, project: str, name: str, path: str) -> None:
    template = task_template(name)
    error = await fails(admin.stub.CreateTask(create_task(template)))
    assert isinstance(error, InvalidArgument)
    assert path in error.field_paths
    assert await admin.count("tasks") == 0


async def test_bad_project_and_unknown_domain_and_mismatched_template_id(
    admin: Running, project: str
) -> None:
    template = task_template()
    request = create_task(template)
    request.id.project = "x" * 64
    request.id.domain = "nowhere"
    error = await fails(admin.stub.CreateTask(request))
    assert isinstance(error, InvalidArgument)
    assert {"id.project", "spec.template.id"} <= set(error.field_paths)
    unknown_domain = create_task(template)
    unknown_domain.id.domain = unknown_domain.spec.template.id.domain = "nowhere"
    error = await fails(admin.stub.CreateTask(unknown_domain))
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("id.domain",)
    unregistered = create_task(task_template())
    unregistered.id.project = unregistered.spec.template.id.project = "ghost"
    assert isinstance(await fails(admin.stub.CreateTask(unregistered)), NotFound)
    assert await admin.count("tasks") == 0


async def test_unknown_ids_are_not_found(admin: Running, project: str) -> None:
    missing = ident(RT.RESOURCE_TYPE_TASK, "nope")
    assert isinstance(
        await fails(admin.stub.GetTask(task_pb2.GetTaskRequest(id=missing))), NotFound
    )
    wf = ident(RT.RESOURCE_TYPE_WORKFLOW, "nope")
    error = await fails(admin.stub.GetWorkflow(workflow_pb2.GetWorkflowRequest(id=wf)))
    assert isinstance(error, NotFound)


async def test_workflow_compiles_against_registered_tasks(admin: Running, project: str) -> None:
    await register_task(admin)
    template = workflow_template()
    request = workflow_pb2.CreateWorkflowRequest(
        id=template.id, spec=workflow_pb2.WorkflowSpec(template=template)
    )
    first = await admin.stub.CreateWorkflow(request)
    again = await admin.stub.CreateWorkflow(request)
    assert (first.created, again.created) == (True, False)
    got = await admin.stub.GetWorkflow(workflow_pb2.GetWorkflowRequest(id=template.id))
    closure = got.workflow.closure.compiled_workflow
    assert [t.template.id.name for t in closure.tasks] == ["t.double"]
    assert closure.primary.template.id.name == "wf"

    changed = workflow_template()
    changed.nodes[0].metadata.name = "renamed"
    changed_request = workflow_pb2.CreateWorkflowRequest(
        id=changed.id, spec=workflow_pb2.WorkflowSpec(template=changed)
    )
    error = await fails(admin.stub.CreateWorkflow(changed_request))
    assert isinstance(error, AlreadyExists)
    assert error.diff is not None
    assert "nodes[0].metadata" in error.diff


async def test_workflow_compile_errors_have_field_paths(admin: Running, project: str) -> None:
    await register_task(admin)
    template = workflow_template(x=STR)  # the task takes an int: type mismatch
    template.nodes.add(id="n1", upstream_node_ids=["n1"]).task_node.reference_id.CopyFrom(
        ident(RT.RESOURCE_TYPE_TASK, "t.missing")
    )
    request = workflow_pb2.CreateWorkflowRequest(
        id=template.id, spec=workflow_pb2.WorkflowSpec(template=template)
    )
    error = await fails(admin.stub.CreateWorkflow(request))
    assert isinstance(error, InvalidArgument)
    assert error.reason == "COMPILATION_FAILED"
    paths = set(error.field_paths)
    assert any(p.startswith("spec.template.nodes[0].inputs[0]") for p in paths), paths
    assert any(p.startswith("spec.template.nodes[1]") for p in paths), paths
    messages = " ".join(v.description for v in error.violations)
    assert "MismatchingTypes" in messages
    assert "TaskReferenceNotFound" in messages
    assert await admin.count("workflows") == 0


async def test_workflow_cannot_reference_another_projects_task(
    admin: Running, project: str
) -> None:
    from skyloom_idl.admin import project_pb2

    await admin.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=project_pb2.Project(id="other"))
    )
    foreign = task_template()
    foreign.id.project = "other"
    await register_task(admin, foreign)
    template = workflow_template()
    template.nodes[0].task_node.reference_id.project = "other"
    request = workflow_pb2.CreateWorkflowRequest(
        id=template.id, spec=workflow_pb2.WorkflowSpec(template=template)
    )
    error = await fails(admin.stub.CreateWorkflow(request))
    assert isinstance(error, InvalidArgument)
    assert "TaskReferenceNotFound" in error.message


async def test_list_tasks_filters_sort_and_pages(admin: Running, project: str) -> None:
    for name in ("a.t", "b.t", "c.t"):
        for version in ("v1", "v2"):
            await register_task(admin, task_template(name, version))
    named = identifier_pb2.NamedEntityIdentifier(project=project, domain="development")
    seen: list[tuple[str, str]] = []
    token = ""
    while True:
        page = await admin.stub.ListTasks(
            task_pb2.ListTasksRequest(
                id=named,
                sort_by=common_pb2.Sort(key="name", direction=common_pb2.Sort.DIRECTION_ASCENDING),
                page=common_pb2.PageRequest(limit=4, token=token),
            )
        )
        seen += [(t.id.name, t.id.version) for t in page.tasks]
        token = page.next_token
        if not token:
            break
    assert sorted(seen) == seen
    assert len(seen) == 6
    assert len(set(seen)) == 6

    only_v2 = common_pb2.Filter(field="version", op=common_pb2.Filter.OPERATOR_EQ, values=["v2"])
    listed = await admin.stub.ListTasks(task_pb2.ListTasksRequest(id=named, filter_by=[only_v2]))
    assert {t.id.version for t in listed.tasks} == {"v2"}
    ids = await admin.stub.ListTaskIds(
        task_pb2.ListTaskIdsRequest(project=project, domain="development")
    )
    assert [i.name for i in ids.ids] == ["a.t", "b.t", "c.t"]


async def test_archived_project_refuses_registration(admin: Running, project: str) -> None:
    from skyloom_common.errors import FailedPrecondition
    from skyloom_idl.admin import project_pb2

    archived = project_pb2.Project(id=project, state=project_pb2.Project.STATE_ARCHIVED)
    await admin.stub.UpdateProject(project_pb2.UpdateProjectRequest(project=archived))
    error = await fails(admin.stub.CreateTask(create_task(task_template())))
    assert isinstance(error, FailedPrecondition)
    assert error.reason == "PROJECT_ARCHIVED"
    assert await admin.count("tasks") == 0


async def test_registered_subworkflow_and_launch_plan_references(
    admin: Running, project: str
) -> None:
    from skyloom_idl.admin import launch_plan_pb2
    from skyloom_idl.core import workflow_pb2 as core_wf

    from .conftest import register_workflow

    await register_task(admin)
    await register_workflow(admin, workflow_template("inner"))
    await admin.stub.CreateLaunchPlan(
        launch_plan_pb2.CreateLaunchPlanRequest(
            id=ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "inner-lp"),
            spec=launch_plan_pb2.LaunchPlanSpec(
                workflow_id=ident(RT.RESOURCE_TYPE_WORKFLOW, "inner")
            ),
        )
    )
    outer = workflow_template("outer")
    outer.nodes[0].ClearField("task_node")
    outer.nodes[0].workflow_node.sub_workflow_ref.CopyFrom(
        ident(RT.RESOURCE_TYPE_WORKFLOW, "inner")
    )
    second = outer.nodes.add()
    second.CopyFrom(outer.nodes[0])
    second.id = "n1"
    second.workflow_node.launchplan_ref.CopyFrom(ident(RT.RESOURCE_TYPE_LAUNCH_PLAN, "inner-lp"))
    assert isinstance(second, core_wf.Node)
    await register_workflow(admin, outer)
    got = await admin.stub.GetWorkflow(workflow_pb2.GetWorkflowRequest(id=outer.id))
    closure = got.workflow.closure.compiled_workflow
    assert [s.template.id.name for s in closure.sub_workflows] == ["inner"]
    assert [t.template.id.name for t in closure.tasks] == ["t.double"]


async def test_default_order_is_newest_first_across_pages(admin: Running, project: str) -> None:
    versions = [f"v{i}" for i in range(5)]
    for version in versions:
        await register_task(admin, task_template("t.paged", version))
    named = identifier_pb2.NamedEntityIdentifier(project=project, domain="development")
    seen: list[str] = []
    token = ""
    for _ in range(5):
        page = await admin.stub.ListTasks(
            task_pb2.ListTasksRequest(id=named, page=common_pb2.PageRequest(limit=2, token=token))
        )
        seen += [t.id.version for t in page.tasks]
        token = page.next_token
        if not token:
            break
    assert seen == versions[::-1]


async def test_reference_without_version_must_be_unambiguous(admin: Running, project: str) -> None:
    await register_task(admin, task_template("t.double", "v1"))
    template = workflow_template("wf-latest")
    template.nodes[0].task_node.reference_id.version = ""
    request = workflow_pb2.CreateWorkflowRequest(
        id=template.id, spec=workflow_pb2.WorkflowSpec(template=template)
    )
    assert (await admin.stub.CreateWorkflow(request)).created
    await register_task(admin, task_template("t.double", "v2"))
    again = workflow_template("wf-latest", "v2")
    again.nodes[0].task_node.reference_id.version = ""
    ambiguous = workflow_pb2.CreateWorkflowRequest(
        id=again.id, spec=workflow_pb2.WorkflowSpec(template=again)
    )
    error = await fails(admin.stub.CreateWorkflow(ambiguous))
    assert isinstance(error, InvalidArgument)
    assert "AmbiguousReference" in error.message


async def test_cycles_are_reported_at_the_closing_reference(admin: Running, project: str) -> None:
    await register_task(admin)
    template = workflow_template()
    second = template.nodes.add()
    second.CopyFrom(template.nodes[0])
    second.id = "n1"
    template.nodes[0].upstream_node_ids.append("n1")
    second.upstream_node_ids.append("n0")
    request = workflow_pb2.CreateWorkflowRequest(
        id=template.id, spec=workflow_pb2.WorkflowSpec(template=template)
    )
    error = await fails(admin.stub.CreateWorkflow(request))
    assert isinstance(error, InvalidArgument)
    cycles = [v for v in error.violations if "CycleDetected" in v.description]
    assert len(cycles) == 1
    assert cycles[0].field.startswith("spec.template.nodes[")
    assert ".upstream_node_ids[0]" in cycles[0].field
    assert "n0 -> n1 -> n0" in cycles[0].description or "n1 -> n0 -> n1" in cycles[0].description
    assert await admin.count("workflows") == 0
