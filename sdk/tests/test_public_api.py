"""The public surface of ``skyloom`` is exactly what ``__all__`` says, and it loads lazily."""

from __future__ import annotations

import subprocess
import sys

import skyloom

PUBLIC = {
    "Checkpoint", "CompileError", "Concurrency", "CronSchedule", "Deck", "DynamicTask", "Email",
    "ExecutionError", "ExecutionParameters", "FixedRate", "LaunchPlan", "LocalConfig", "MapTask",
    "NodeEvent", "Notification", "PagerDuty", "PluginConfig", "PythonTask", "ReferenceLaunchPlan",
    "ReferenceTask", "Resources", "RetryableError", "RunResult", "Secret", "SkyloomError", "Slack",
    "TaskConfig", "TaskTimeoutError", "Workflow", "approve", "conditional", "current_context",
    "dynamic", "execute", "local_config", "map_task", "reference_launch_plan", "reference_task",
    "sleep", "task", "wait_for_input", "workflow",
}  # fmt: skip


def test_all_is_exactly_the_public_set_and_sorted() -> None:
    assert set(skyloom.__all__) == PUBLIC
    assert list(skyloom.__all__) == sorted(skyloom.__all__)


def test_every_public_name_resolves() -> None:
    for name in skyloom.__all__:
        assert getattr(skyloom, name) is not None


def test_import_skyloom_does_not_load_protobuf() -> None:
    code = "import sys, skyloom; print('google.protobuf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
