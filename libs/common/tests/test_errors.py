"""The domain error tree and its mapping to and from gRPC statuses (no server needed)."""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest

from skyloom_common import errors
from skyloom_common.errors import (
    Aborted,
    AlreadyExists,
    ConfigError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    SkyloomError,
    Unauthenticated,
    Unavailable,
)
from skyloom_common.rpc import error_from_status, status_from_error


def test_error_module_does_not_import_grpc() -> None:
    # Managers import the error tree; it must not drag the transport in.
    code = "import sys, skyloom_common.errors; sys.exit('grpc' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_every_public_error_is_a_skyloom_error() -> None:
    public = {getattr(errors, name) for name in errors.__all__}
    classes = {c for c in public if isinstance(c, type) and issubclass(c, Exception)}
    assert len(classes) == 11
    assert all(issubclass(c, SkyloomError) for c in classes)
    assert issubclass(ConfigError, InvalidArgument)


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (InvalidArgument("bad"), grpc.StatusCode.INVALID_ARGUMENT, False),
        (NotFound("gone"), grpc.StatusCode.NOT_FOUND, False),
        (AlreadyExists("dup"), grpc.StatusCode.ALREADY_EXISTS, False),
        (FailedPrecondition("terminal"), grpc.StatusCode.FAILED_PRECONDITION, False),
        (Aborted("stale epoch"), grpc.StatusCode.ABORTED, True),
        (PermissionDenied("no"), grpc.StatusCode.PERMISSION_DENIED, False),
        (Unauthenticated("who"), grpc.StatusCode.UNAUTHENTICATED, False),
        (ResourceExhausted("quota"), grpc.StatusCode.RESOURCE_EXHAUSTED, True),
        (Unavailable("db down"), grpc.StatusCode.UNAVAILABLE, True),
    ],
)
def test_each_error_maps_to_its_code_and_back(
    error: SkyloomError, code: grpc.StatusCode, retryable: bool
) -> None:
    mapped, status = status_from_error(error)
    assert mapped == code
    assert status.code == code.value[0]
    assert status.message == error.message
    back = error_from_status(mapped, status.message, status)
    assert type(back) is type(error)
    assert back.retryable is retryable is error.retryable


def test_reason_metadata_and_retry_after_survive_the_round_trip() -> None:
    error = FailedPrecondition(
        "execution is already SUCCEEDED",
        reason="ALREADY_IN_TERMINAL_STATE",
        metadata={"current_phase": "SUCCEEDED"},
    )
    code, status = status_from_error(error)
    back = error_from_status(code, status.message, status)
    assert back.reason == "ALREADY_IN_TERMINAL_STATE"
    assert back.metadata == {"current_phase": "SUCCEEDED"}

    code, status = status_from_error(Unavailable("later", retry_after=2.5))
    back = error_from_status(code, status.message, status)
    assert isinstance(back, Unavailable)
    assert back.retry_after == 2.5

    code, status = status_from_error(NotFound("no such execution", resource="execution:p/d/x"))
    back = error_from_status(code, status.message, status)
    assert isinstance(back, NotFound)
    assert back.resource == "execution:p/d/x"


def test_invalid_argument_collects_field_paths() -> None:
    error = InvalidArgument(
        "2 problems",
        violations=[FieldViolation("a.b[0]", "x"), FieldViolation("c", "y")],
    )
    assert error.field_paths == ("a.b[0]", "c")
    single = InvalidArgument.for_field("workflow.nodes[2].id", "must be a DNS-1123 label")
    assert single.message == "workflow.nodes[2].id: must be a DNS-1123 label"
    assert single.violations == (
        FieldViolation("workflow.nodes[2].id", "must be a DNS-1123 label"),
    )


def test_already_exists_shows_the_diff_in_its_message() -> None:
    error = AlreadyExists("task t v1 exists with different content", diff="- a\n+ b")
    assert error.message == "task t v1 exists with different content\n- a\n+ b"
    assert error.diff == "- a\n+ b"
    assert AlreadyExists("event already recorded").diff is None


def test_codes_without_a_domain_class_come_back_as_the_base_error() -> None:
    back = error_from_status(grpc.StatusCode.DEADLINE_EXCEEDED, "too slow")
    assert type(back) is SkyloomError
    assert back.reason == "DEADLINE_EXCEEDED"
    assert back.retryable
    internal = error_from_status(grpc.StatusCode.INTERNAL, "internal error (error id 1)")
    assert internal.reason == "INTERNAL"
    assert not internal.retryable


def test_long_messages_and_non_ascii_are_cut_on_utf8_boundaries() -> None:
    code, status = status_from_error(InvalidArgument("ü" * 5000))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.message.endswith("… (truncated)")
    assert len(status.message.encode()) <= 768
    status.message.encode().decode()  # still valid UTF-8
