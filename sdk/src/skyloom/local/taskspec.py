"""What a task node's attempts obey, worked out once per task (and per overriding node)."""

from __future__ import annotations

import inspect
import weakref
from dataclasses import dataclass
from typing import Any

from skyloom_idl.core import tasks_pb2, workflow_pb2


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a task node's attempts obey: the template's settings with node overrides."""

    retries: int
    timeout: float | None
    cache: tasks_pb2.CacheConfig | None
    is_async: bool


def task_spec(task: Any, node: workflow_pb2.Node | None) -> TaskSpec:
    tmpl = task.shared_template
    ov = node.task_node.overrides if node is not None and node.HasField("task_node") else None
    meta = tmpl.metadata
    if ov is None:
        retries, tmo, cache = meta.retries.retries, meta.timeout, meta.cache
    else:
        retries = ov.retries.retries if ov.HasField("retries") else meta.retries.retries
        tmo = ov.timeout if ov.HasField("timeout") else meta.timeout
        cache = ov.cache if ov.HasField("cache") else meta.cache
    return TaskSpec(
        retries=retries,
        timeout=tmo.ToTimedelta().total_seconds() or None,
        cache=cache if cache.enabled else None,
        is_async=inspect.iscoroutinefunction(task.fn),
    )


_DEFAULT_SPECS: weakref.WeakKeyDictionary[Any, TaskSpec] = weakref.WeakKeyDictionary()


def spec_of(task: Any, node: workflow_pb2.Node | None) -> TaskSpec:
    """``task``'s spec in ``node``: computed once per task when the node overrides nothing
    (a task's settings are fixed once it is defined), else each time."""
    if node is None or not node.task_node.HasField("overrides"):
        found = _DEFAULT_SPECS.get(task)
        if found is None:
            found = _DEFAULT_SPECS[task] = task_spec(task, None)
        return found
    return task_spec(task, node)
