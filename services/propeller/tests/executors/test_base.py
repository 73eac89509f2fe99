"""Pure helpers shared by executor backends."""

from __future__ import annotations

import pytest

from skyloom_idl.core import tasks_pb2
from skyloom_propeller.commands import LaunchAttempt
from skyloom_propeller.executors.base import cpu_cores, memory_bytes, render_args


@pytest.mark.parametrize(
    ("text", "expected"),
    [("512Mi", 512 * 2**20), ("1Gi", 2**30), ("1G", 10**9), ("100", 100), ("1.5Ki", 1536),
     ("lots", None), ("3Qi", None)],
)  # fmt: skip
def test_memory_quantities(text: str, expected: int | None) -> None:
    assert memory_bytes(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("500m", 0.5), ("2", 2.0), ("x", None)])
def test_cpu_quantities(text: str, expected: float | None) -> None:
    assert cpu_cores(text) == expected


def test_placeholders_are_filled_and_others_kept() -> None:
    cmd = LaunchAttempt(
        attempt_id="a", node_path="n", retry_attempt=0, task=tasks_pb2.TaskTemplate(),
        inputs_uri="file:///i.pb", output_prefix="file:///o", raw_output_prefix="file:///r",
        resources=tasks_pb2.Resources(), interruptible=False,
    )  # fmt: skip
    argv = ["skyloom-execute", "--inputs", "{{inputs}}", "--output-prefix", "{{output_prefix}}",
            "--raw-output-prefix", "{{raw_output_prefix}}", "--checkpoint-prefix",
            "{{checkpoint_prefix}}", "--prev-checkpoint-prefix", "{{prev_checkpoint_prefix}}",
            "--module", "m"]  # fmt: skip
    assert render_args(argv, cmd) == [
        "skyloom-execute", "--inputs", "file:///i.pb", "--output-prefix", "file:///o",
        "--raw-output-prefix", "file:///r", "--checkpoint-prefix", "file:///o/checkpoint",
        "--prev-checkpoint-prefix", "", "--module", "m",
    ]  # fmt: skip
