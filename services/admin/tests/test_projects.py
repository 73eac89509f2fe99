"""Projects and domains over gRPC and Postgres: happy paths, bad ids, nothing written."""

from __future__ import annotations

import pytest

from skyloom_common.errors import AlreadyExists, InvalidArgument, NotFound
from skyloom_idl.admin import common_pb2, project_pb2

from .conftest import Running, fails

pytestmark = pytest.mark.integration
Project = project_pb2.Project


async def test_register_get_update_archive_list(admin: Running) -> None:
    labels = common_pb2.Labels(values={"team": "ml"})
    created = await admin.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=Project(id="flights", labels=labels))
    )
    assert created.project.name == "flights"
    assert created.project.state == Project.STATE_ACTIVE
    assert [d.id for d in created.project.domains] == ["development", "staging", "production"]
    await admin.stub.RegisterProject(
        project_pb2.RegisterProjectRequest(project=Project(id="other"))
    )

    got = await admin.stub.GetProject(project_pb2.GetProjectRequest(id="flights"))
    assert dict(got.project.labels.values) == {"team": "ml"}

    archived = Project(id="other", name="Other", state=Project.STATE_ARCHIVED)
    await admin.stub.UpdateProject(project_pb2.UpdateProjectRequest(project=archived))
    listed = await admin.stub.ListProjects(project_pb2.ListProjectsRequest())
    assert [p.id for p in listed.projects] == ["flights"]  # archived hidden by default
    state_filter = common_pb2.Filter(
        field="state", op=common_pb2.Filter.OPERATOR_EQ, values=["STATE_ARCHIVED"]
    )
    only_archived = await admin.stub.ListProjects(
        project_pb2.ListProjectsRequest(filter_by=[state_filter])
    )
    assert [p.id for p in only_archived.projects] == ["other"]
    by_label = common_pb2.Filter(
        field="labels.team", op=common_pb2.Filter.OPERATOR_EQ, values=["ml"]
    )
    labelled = await admin.stub.ListProjects(project_pb2.ListProjectsRequest(filter_by=[by_label]))
    assert [p.id for p in labelled.projects] == ["flights"]


async def test_duplicate_and_unknown(admin: Running) -> None:
    request = project_pb2.RegisterProjectRequest(project=Project(id="dup"))
    await admin.stub.RegisterProject(request)
    assert isinstance(await fails(admin.stub.RegisterProject(request)), AlreadyExists)
    missing = await fails(admin.stub.GetProject(project_pb2.GetProjectRequest(id="nope")))
    assert isinstance(missing, NotFound)
    update = project_pb2.UpdateProjectRequest(project=Project(id="nope"))
    assert isinstance(await fails(admin.stub.UpdateProject(update)), NotFound)


@pytest.mark.parametrize(
    "bad",
    [
        "../etc",
        "%2e%2e",
        "a\\b",
        "/abs",
        "a\x00b",
        "tab\there",
        "x" * 64,
        "UPPER",
        "-lead",
        "ünï",
        "\u0430dmin",  # Cyrillic a
        "a\u202eb",
        "",
    ],
)
async def test_bad_project_ids_are_invalid_argument_and_nothing_is_written(
    admin: Running, bad: str
) -> None:
    error = await fails(
        admin.stub.RegisterProject(project_pb2.RegisterProjectRequest(project=Project(id=bad)))
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("project.id",)
    assert await admin.count("projects") == 0


async def test_bad_labels_and_control_characters_in_text(admin: Running) -> None:
    project = Project(
        id="ok", description="bell\x07", labels=common_pb2.Labels(values={"../x": "v"})
    )
    error = await fails(
        admin.stub.RegisterProject(project_pb2.RegisterProjectRequest(project=project))
    )
    assert isinstance(error, InvalidArgument)
    assert set(error.field_paths) == {"project.description", "project.labels.values"}
    assert await admin.count("projects") == 0


async def test_unparseable_request_bytes(admin: Running) -> None:
    error = await fails(admin.raw("RegisterProject", b"\xff\xff\xff"))
    assert isinstance(error, InvalidArgument)
    assert error.reason == "MALFORMED_REQUEST"
    assert await admin.count("projects") == 0
