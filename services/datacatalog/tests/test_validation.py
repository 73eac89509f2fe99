"""Validation collects every problem of a request, each with its field path (no server)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyloom_common.errors import InvalidArgument
from skyloom_core import names
from skyloom_datacatalog import validation as check
from skyloom_idl.core import literals_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc


def good_id() -> dc.DatasetID:
    return dc.DatasetID(project="proj", domain="dev", name="skyloom_task-a.b", version="1-ab-cd")


def test_a_valid_artifact_passes() -> None:
    art = dc.Artifact(id="3f1c-uuid", dataset=good_id())
    art.data.add(name="o0").value.scalar.primitive.integer = 1
    art.partitions.add(key="day", value="2026-01-01 (UTC)")
    art.metadata.key_map["source_execution"] = "exec-1"
    check.check_create_artifact(dc.CreateArtifactRequest(artifact=art), max_inline_bytes=1024)


def test_every_violation_is_reported_at_once() -> None:
    art = dc.Artifact(
        id="",
        dataset=dc.DatasetID(project="Bad_Project", domain="", name="n", version="v"),
    )
    art.data.add(name="o0").value.scalar.primitive.integer = 1
    art.data.add(name="o0").value.CopyFrom(literals_pb2.Literal())
    art.partitions.add(key="k", value="")
    with pytest.raises(InvalidArgument) as info:
        check.check_create_artifact(dc.CreateArtifactRequest(artifact=art), max_inline_bytes=1024)
    assert info.value.field_paths == (
        "artifact.dataset.project",
        "artifact.dataset.domain",
        "artifact.id",
        "artifact.data[1].name",
        "artifact.data[1].value",
        "artifact.partitions[0].value",
    )


def test_inline_size_limit_names_size_and_limit() -> None:
    art = dc.Artifact(id="a", dataset=good_id())
    art.data.add(name="o0").value.scalar.primitive.string_value = "x" * 2000
    with pytest.raises(InvalidArgument) as info:
        check.check_create_artifact(dc.CreateArtifactRequest(artifact=art), max_inline_bytes=1024)
    (violation,) = info.value.violations
    assert violation.field == "artifact.data"
    assert "over the limit of 1024 bytes" in violation.description
    assert "Blob literal" in violation.description


@pytest.mark.parametrize(
    "bad", ["a\x00b", "a\tb", "a\u202eb", "x" * 1025, "line\nbreak", "zero\u200bwidth"]
)
def test_free_text_refuses_control_characters_and_overlong(bad: str) -> None:
    assert check.text_violations(bad, "f") != []


@pytest.mark.parametrize("fine", ["", "2026-01-01", "eu-west-1", "a b", "ümlaut"])
def test_free_text_accepts_ordinary_values(fine: str) -> None:
    assert check.text_violations(fine, "f") == []


def test_filter_of_the_wrong_entity_and_empty_filter() -> None:
    request = dc.ListArtifactsRequest(dataset=good_id())
    request.filter.filters.add(dataset_filter=dc.DatasetPropertyFilter(name="x"))
    request.filter.filters.add()
    request.filter.filters.add(
        artifact_filter=dc.ArtifactPropertyFilter(artifact_id="a"), operator=99
    )
    with pytest.raises(InvalidArgument) as info:
        check.check_list_artifacts(request)
    assert info.value.field_paths == (
        "filter.filters[0]",
        "filter.filters[1]",
        "filter.filters[2].operator",
    )


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=300) | st.text(max_size=80))
@settings(max_examples=1000, deadline=None)
def test_fast_paths_agree_with_skyloom_core_names(value: str) -> None:
    """The fast paths never accept what skyloom_core.names refuses (and vice versa)."""
    assert_agree(value)


def assert_agree(value: str) -> None:
    ds = dc.DatasetID(project=value, domain=value, name=value, version=value)
    fast = {v.field for v in check.dataset_id_violations(ds, "d")}
    core = {
        field
        for field, found in (
            ("d.project", names.validate_project(value, "")),
            ("d.domain", names.validate_domain(value, "")),
            ("d.name", names.validate_name(value, "")),
            ("d.version", names.validate_version(value, "")),
        )
        if found
    }
    assert fast == core


@pytest.mark.parametrize(
    "value", ["a", "a.b", "a..b", "-a", ".a", "a-", "A", "a+b", "+a", "a" * 63, "a" * 64, "_x"]
)
def test_fast_paths_agree_on_edge_cases(value: str) -> None:
    assert_agree(value)
