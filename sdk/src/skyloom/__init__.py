"""Skyloom SDK: typed tasks and workflows, local execution, the skyloom CLI.

Names load on first use (PEP 562) so that ``skyloom --help`` and ``import skyloom`` stay fast:
the heavy parts (protobuf, the type engine, the compiler) load only when an author touches them.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skyloom._errors import (
        CompileError,
        ExecutionError,
        RetryableError,
        SkyloomError,
        TaskTimeoutError,
    )
    from skyloom.core.conditional import conditional
    from skyloom.core.dynamic import DynamicTask, dynamic
    from skyloom.core.gates import approve, sleep, wait_for_input
    from skyloom.core.launch_plan import (
        Concurrency,
        CronSchedule,
        Email,
        FixedRate,
        LaunchPlan,
        Notification,
        PagerDuty,
        Slack,
    )
    from skyloom.core.map_task import MapTask, map_task
    from skyloom.core.reference import (
        ReferenceLaunchPlan,
        ReferenceTask,
        reference_launch_plan,
        reference_task,
    )
    from skyloom.core.task import PythonTask, task
    from skyloom.core.workflow import Workflow, workflow
    from skyloom.local.context import Checkpoint, Deck, ExecutionParameters, current_context
    from skyloom.local.executor import LocalConfig, NodeEvent
    from skyloom.local.run import RunResult, execute, local_config
    from skyloom.resources import PluginConfig, Resources, Secret, TaskConfig

_EXPORTS = {
    "Checkpoint": "skyloom.local.context",
    "CompileError": "skyloom._errors",
    "Concurrency": "skyloom.core.launch_plan",
    "CronSchedule": "skyloom.core.launch_plan",
    "Deck": "skyloom.local.context",
    "DynamicTask": "skyloom.core.dynamic",
    "Email": "skyloom.core.launch_plan",
    "ExecutionError": "skyloom._errors",
    "ExecutionParameters": "skyloom.local.context",
    "FixedRate": "skyloom.core.launch_plan",
    "LaunchPlan": "skyloom.core.launch_plan",
    "LocalConfig": "skyloom.local.executor",
    "MapTask": "skyloom.core.map_task",
    "NodeEvent": "skyloom.local.executor",
    "Notification": "skyloom.core.launch_plan",
    "PagerDuty": "skyloom.core.launch_plan",
    "PluginConfig": "skyloom.resources",
    "PythonTask": "skyloom.core.task",
    "ReferenceLaunchPlan": "skyloom.core.reference",
    "ReferenceTask": "skyloom.core.reference",
    "Resources": "skyloom.resources",
    "RetryableError": "skyloom._errors",
    "RunResult": "skyloom.local.run",
    "Secret": "skyloom.resources",
    "SkyloomError": "skyloom._errors",
    "Slack": "skyloom.core.launch_plan",
    "TaskConfig": "skyloom.resources",
    "TaskTimeoutError": "skyloom._errors",
    "Workflow": "skyloom.core.workflow",
    "approve": "skyloom.core.gates",
    "conditional": "skyloom.core.conditional",
    "current_context": "skyloom.local.context",
    "dynamic": "skyloom.core.dynamic",
    "execute": "skyloom.local.run",
    "local_config": "skyloom.local.run",
    "map_task": "skyloom.core.map_task",
    "reference_launch_plan": "skyloom.core.reference",
    "reference_task": "skyloom.core.reference",
    "sleep": "skyloom.core.gates",
    "task": "skyloom.core.task",
    "wait_for_input": "skyloom.core.gates",
    "workflow": "skyloom.core.workflow",
}

__all__ = [
    "Checkpoint",
    "CompileError",
    "Concurrency",
    "CronSchedule",
    "Deck",
    "DynamicTask",
    "Email",
    "ExecutionError",
    "ExecutionParameters",
    "FixedRate",
    "LaunchPlan",
    "LocalConfig",
    "MapTask",
    "NodeEvent",
    "Notification",
    "PagerDuty",
    "PluginConfig",
    "PythonTask",
    "ReferenceLaunchPlan",
    "ReferenceTask",
    "Resources",
    "RetryableError",
    "RunResult",
    "Secret",
    "SkyloomError",
    "Slack",
    "TaskConfig",
    "TaskTimeoutError",
    "Workflow",
    "approve",
    "conditional",
    "current_context",
    "dynamic",
    "execute",
    "local_config",
    "map_task",
    "reference_launch_plan",
    "reference_task",
    "sleep",
    "task",
    "wait_for_input",
    "workflow",
]


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skyloom' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
