"""Matchable attributes: storage per scope, precedence, bad scopes."""

from __future__ import annotations

import pytest

from skyloom_admin.attributes import resolve
from skyloom_common.errors import InvalidArgument, NotFound
from skyloom_idl.admin import attributes_pb2 as pb

from .conftest import DOMAIN, PROJECT, Running, fails

pytestmark = pytest.mark.integration
Scope = pb.AttributesScope


def test_resolve_takes_each_field_from_the_most_specific_layer() -> None:
    lp = pb.MatchingAttributes(max_parallelism=2)
    workflow = pb.MatchingAttributes(execution_queue="gpu")
    project_domain = pb.MatchingAttributes(max_parallelism=8, cluster="east")
    project = pb.MatchingAttributes(
        execution_queue="cpu", quota=pb.QuotaAttributes(max_concurrent_executions=3)
    )
    config = pb.MatchingAttributes(max_parallelism=25, execution_queue="default", cluster="any")
    merged = resolve([lp, workflow, project_domain, project, config])
    assert merged.max_parallelism == 2
    assert merged.execution_queue == "gpu"
    assert merged.cluster == "east"
    assert merged.quota.max_concurrent_executions == 3
    # max_parallelism=0 set explicitly is a value (no limit), not "unset"
    assert resolve([pb.MatchingAttributes(max_parallelism=0), config]).max_parallelism == 0


async def test_update_get_effective_list_delete(admin: Running, project: str) -> None:
    await admin.stub.UpdateMatchableAttributes(
        pb.UpdateMatchableAttributesRequest(
            attributes=pb.ScopedAttributes(
                scope=Scope(project=PROJECT), attributes=pb.MatchingAttributes(execution_queue="q1")
            )
        )
    )
    await admin.stub.UpdateMatchableAttributes(
        pb.UpdateMatchableAttributesRequest(
            attributes=pb.ScopedAttributes(
                scope=Scope(project=PROJECT, domain=DOMAIN, workflow="wf"),
                attributes=pb.MatchingAttributes(max_parallelism=4),
            )
        )
    )
    scope = Scope(project=PROJECT, domain=DOMAIN, workflow="wf")
    effective = await admin.stub.GetMatchableAttributes(
        pb.GetMatchableAttributesRequest(scope=scope, effective=True)
    )
    got = effective.attributes.attributes
    assert (got.max_parallelism, got.execution_queue) == (4, "q1")
    assert got.task_resources.HasField("defaults")  # from config
    stored = await admin.stub.GetMatchableAttributes(pb.GetMatchableAttributesRequest(scope=scope))
    assert not stored.attributes.attributes.execution_queue
    listed = await admin.stub.ListMatchableAttributes(
        pb.ListMatchableAttributesRequest(project=PROJECT)
    )
    assert len(listed.attributes) == 2
    await admin.stub.DeleteMatchableAttributes(pb.DeleteMatchableAttributesRequest(scope=scope))
    await admin.stub.DeleteMatchableAttributes(pb.DeleteMatchableAttributesRequest(scope=scope))
    missing = await fails(
        admin.stub.GetMatchableAttributes(pb.GetMatchableAttributesRequest(scope=scope))
    )
    assert isinstance(missing, NotFound)
    effective_after = await admin.app.ctx.attributes.effective(PROJECT, DOMAIN, "wf")
    assert effective_after.max_parallelism == 25  # back to the configuration


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        (Scope(project="../x"), "attributes.scope.project"),
        (Scope(project=PROJECT, domain="nowhere"), "attributes.scope.domain"),
        (Scope(project=PROJECT, workflow="wf"), "attributes.scope.workflow"),
        (Scope(project=PROJECT, domain=DOMAIN, workflow="a\x00b"), "attributes.scope.workflow"),
    ],
)
async def test_bad_scopes(
    admin: Running, project: str, scope: pb.AttributesScope, path: str
) -> None:
    request = pb.UpdateMatchableAttributesRequest(
        attributes=pb.ScopedAttributes(scope=scope, attributes=pb.MatchingAttributes())
    )
    error = await fails(admin.stub.UpdateMatchableAttributes(request))
    assert isinstance(error, InvalidArgument)
    assert path in error.field_paths
    assert await admin.count("attributes") == 0


async def test_unknown_project_is_not_found(admin: Running) -> None:
    request = pb.UpdateMatchableAttributesRequest(
        attributes=pb.ScopedAttributes(
            scope=Scope(project="ghost"), attributes=pb.MatchingAttributes()
        )
    )
    assert isinstance(await fails(admin.stub.UpdateMatchableAttributes(request)), NotFound)
    assert await admin.count("attributes") == 0
