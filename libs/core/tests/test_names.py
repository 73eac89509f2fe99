"""Name validation shared by admin and the SDK."""

from __future__ import annotations

import pytest

from skyloom_core.errors import Violation
from skyloom_core.names import (
    validate_domain,
    validate_execution_name,
    validate_identifier,
    validate_name,
    validate_node_id,
    validate_project,
    validate_version,
)
from skyloom_idl.core import identifier_pb2

DNS_RULE = "use lowercase letters, digits and '-', starting and ending with a letter or digit"


def msgs(vs: list[Violation]) -> list[str]:
    return [v.message for v in vs]


@pytest.mark.parametrize("good", ["flytesnacks", "a", "my-project-2", "x" * 63])
def test_good_projects(good: str) -> None:
    assert validate_project(good) == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "project must not be empty"),
        ("x" * 64, "project is 64 characters long, over the limit of 63"),
        (
            "My-Project",
            "project 'My-Project' is invalid: " + DNS_RULE,
        ),
        (
            "proj-",
            "project 'proj-' is invalid: " + DNS_RULE,
        ),
        ("-proj", "project must not start with '-'"),
        ("pr\u0430j", "project contains non-ASCII character 'а' (U+0430); only ASCII is allowed"),
        ("pro\u202ej", "project contains a bidirectional override character (U+202E)"),
        ("pro\x00j", "project contains a control or invisible character (U+0000)"),
        ("pro\u200bj", "project contains a control or invisible character (U+200B)"),
        ("a b", "project contains whitespace"),
        ("../etc", "project contains '..'"),
        ("%2e%2e", "project contains '%'"),
        ("a/b", "project contains '/'"),
        ("a\\b", "project contains a backslash"),
    ],
)
def test_bad_projects(bad: str, message: str) -> None:
    assert msgs(validate_project(bad)) == [message]


def test_names_versions_node_ids() -> None:
    assert validate_name("my_pkg.flows.train-v2") == []
    assert msgs(validate_name("pkg..mod")) == ["name contains '..'"]
    assert msgs(validate_name("/abs/path")) == ["name contains '/'"]
    assert msgs(validate_name(".hidden")) == ["name must not start with '.'"]
    assert msgs(validate_name("a:b")) == [
        "name 'a:b' is invalid: use ASCII letters, digits, '_', '-' and '.'"
    ]
    assert validate_version("1.0+local") == []
    assert validate_version("3f2a9c1") == []
    assert msgs(validate_version("v" * 129)) == [
        "version is 129 characters long, over the limit of 128"
    ]
    assert validate_node_id("n0") == []
    assert msgs(validate_node_id("n0.sub")) == [
        "node id 'n0.sub' is invalid: use ASCII letters, digits, '_' and '-'"
    ]
    assert validate_domain("development") == []
    assert validate_execution_name("f1a2b3c4d5e6f7a8b9c0") == []


def test_identifier_reports_each_part_with_its_path() -> None:
    ident = identifier_pb2.Identifier(project="Bad", domain="", name="ok", version="a/b")
    assert [v.field_path for v in validate_identifier(ident, "spec.id")] == [
        "spec.id.project",
        "spec.id.domain",
        "spec.id.version",
    ]
    assert (
        validate_identifier(
            identifier_pb2.Identifier(project="p", domain="d", name="n"), require_version=False
        )
        == []
    )
