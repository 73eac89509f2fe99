"""Skyloom SDK: typed tasks and workflows, local execution, the skyloom CLI."""

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
