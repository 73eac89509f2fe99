"""Keys and ids: what may become a path segment, and the per-attempt layout."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyloom_core.blob import (
    INPUTS_FILE,
    AttemptPath,
    InvalidKey,
    join_key,
    join_uri,
    parse_uri,
    validate_id,
    validate_key,
    validate_prefix,
)

GOOD: dict[str, object] = {
    "project": "flytesnacks",
    "domain": "development",
    "execution": "abc123",
    "node_id": "n0",
    "attempt": 0,
}


def test_layout_matches_design() -> None:
    attempt = AttemptPath(**GOOD)  # type: ignore[arg-type]

    assert attempt.key(INPUTS_FILE) == "flytesnacks/development/abc123/n0/0/inputs.pb"
    assert attempt.uri("s3://my-bucket/metadata", "outputs.pb") == (
        "s3://my-bucket/metadata/flytesnacks/development/abc123/n0/0/outputs.pb"
    )
    assert attempt.uri("file:///var/skyloom/", "error.pb") == (
        "file:///var/skyloom/flytesnacks/development/abc123/n0/0/error.pb"
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("project", "..", "relative path component"),
        ("domain", "", "is empty"),
        ("execution", "a/b", "U+002F SOLIDUS"),
        ("execution", "a\\b", "U+005C REVERSE SOLIDUS"),
        ("node_id", "n0\x00", "U+0000"),
        ("node_id", "%2e%2e", "U+0025 PERCENT SIGN"),
        ("node_id", "n\u202e0", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("project", "flytesnаcks", "CYRILLIC SMALL LETTER A"),  # homoglyph
        ("project", "/etc", "U+002F"),
        ("domain", "-rf", "must start with"),
        ("execution", "x" * 256, "longer than 255"),
    ],
)
def test_bad_ids_name_the_field(field: str, value: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as info:
        AttemptPath(**{**GOOD, field: value})  # type: ignore[arg-type]

    assert info.value.field == field
    assert reason in str(info.value)
    assert str(info.value).startswith(f"invalid {field}")


@pytest.mark.parametrize("attempt", [-1, True, "1", 1.0])
def test_attempt_must_be_a_non_negative_int(attempt: object) -> None:
    with pytest.raises(InvalidKey) as info:
        AttemptPath(**{**GOOD, "attempt": attempt})  # type: ignore[arg-type]
    assert info.value.field == "attempt"


def test_file_name_is_validated_too() -> None:
    with pytest.raises(InvalidKey) as info:
        AttemptPath(**GOOD).key("../../x")  # type: ignore[arg-type]
    assert info.value.field == "file"


@pytest.mark.parametrize(
    "key",
    [
        "..",
        "a/../b",
        "./a",
        "/abs",
        "a//b",
        "a/",
        "a\\..\\b",
        "a\x00b",
        "a\nb",
        "a\x7fb",
        "a\u200bb",  # zero-width space (format char)
        "a/\u202egnp.exe",
        "a/.skyloom-tmp-123",
        "x" * 256,
        "a/" * 600,
    ],
)
def test_bad_keys(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


@pytest.mark.parametrize(
    "key", ["a", "a/b.c/d", "data/part-0001.parquet", "ünïcödé/ファイル.txt", "%2e%2e", ".hidden/x"]
)
def test_good_keys(key: str) -> None:
    assert validate_key(key) == key


def test_prefix_allows_empty_and_trailing_slash() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("a/b/") == "a/b/"
    with pytest.raises(InvalidKey):
        validate_prefix("a//")
    assert join_key("a/", "", "b/c") == "a/b/c"


@given(st.text(max_size=40))
def test_any_accepted_key_stays_under_its_root(key: str) -> None:
    try:
        validate_key(key)
    except InvalidKey:
        return
    joined = posixpath.normpath(posixpath.join("/root", key))
    assert joined.startswith("/root/")
    assert posixpath.relpath(joined, "/root") == key


@given(st.text(max_size=20))
def test_any_accepted_id_is_one_plain_segment(value: str) -> None:
    try:
        validate_id(value, "x")
    except InvalidKey:
        return
    assert value.isascii()
    assert "/" not in value
    assert value not in (".", "..")
    assert validate_key(value) == value


@pytest.mark.parametrize(
    ("uri", "scheme", "bucket", "path"),
    [
        ("s3://my-bucket", "s3", "my-bucket", ""),
        ("s3://my-bucket/meta/data/", "s3", "my-bucket", "meta/data"),
        ("file:///var/lib/skyloom", "file", "", "/var/lib/skyloom"),
        ("file:///tmp/x/", "file", "", "/tmp/x"),
    ],
)
def test_parse_uri(uri: str, scheme: str, bucket: str, path: str) -> None:
    parsed = parse_uri(uri)
    assert (parsed.scheme, parsed.bucket, parsed.path) == (scheme, bucket, path)


@pytest.mark.parametrize(
    "uri",
    [
        "gs://bucket/x",
        "/no/scheme",
        "file://relative/path",
        "file:///",
        "file:///a/../b",
        "file:///a\\b",
        "s3://Bad_Bucket",
        "s3://ab",
        "s3://192.168.1.1",
        "s3://bucket/../x",
        "s3://bucket//x",
    ],
)
def test_bad_uris(uri: str) -> None:
    with pytest.raises(InvalidKey):
        parse_uri(uri)


def test_join_uri_validates_the_key() -> None:
    assert join_uri("s3://b-1/p", "k/x") == "s3://b-1/p/k/x"
    with pytest.raises(InvalidKey):
        join_uri("s3://b-1/p", "../x")
