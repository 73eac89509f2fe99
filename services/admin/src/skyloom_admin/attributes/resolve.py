"""Attribute resolution (pure): each setting comes from the most specific layer that sets it.

Precedence, most specific first: launch plan (or execution spec) > workflow > project-domain >
project > configuration. A field is "set" when: ``task_resources``/``quota`` messages are
present, ``max_parallelism`` has presence (``optional``), strings are non-empty. Task
resources are resolved per part (``defaults`` and ``limits`` each from their own layer).
"""

from __future__ import annotations

from collections.abc import Sequence

from skyloom_admin.settings import DefaultAttributes
from skyloom_idl.admin import attributes_pb2, launch_plan_pb2
from skyloom_idl.core import tasks_pb2

__all__ = ["config_layer", "launch_plan_layer", "resolve"]

Attrs = attributes_pb2.MatchingAttributes


def config_layer(defaults: DefaultAttributes) -> Attrs:
    """The configuration's defaults as the least specific layer."""
    entry = tasks_pb2.Resources.ResourceEntry
    cpu, memory = tasks_pb2.Resources.RESOURCE_NAME_CPU, tasks_pb2.Resources.RESOURCE_NAME_MEMORY
    requests = [entry(name=cpu, value=defaults.cpu_request)]
    requests.append(entry(name=memory, value=defaults.memory_request))
    limits = [entry(name=cpu, value=defaults.cpu_limit)]
    limits.append(entry(name=memory, value=defaults.memory_limit))
    return Attrs(
        task_resources=attributes_pb2.TaskResourceAttributes(
            defaults=tasks_pb2.Resources(requests=requests),
            limits=tasks_pb2.Resources(limits=limits),
        ),
        max_parallelism=defaults.max_parallelism,
        execution_queue=defaults.execution_queue,
    )


def launch_plan_layer(spec: launch_plan_pb2.LaunchPlanSpec) -> Attrs:
    """The attributes a launch plan spec sets itself (only max_parallelism today)."""
    layer = Attrs()
    if spec.HasField("max_parallelism"):
        layer.max_parallelism = spec.max_parallelism
    return layer


def resolve(layers: Sequence[Attrs | None]) -> Attrs:
    """Merge ``layers``, most specific first (``None`` entries are skipped)."""
    out = Attrs()
    present = [layer for layer in layers if layer is not None]
    for layer in present:
        if not out.task_resources.HasField("defaults") and layer.task_resources.HasField(
            "defaults"
        ):
            out.task_resources.defaults.CopyFrom(layer.task_resources.defaults)
        if not out.task_resources.HasField("limits") and layer.task_resources.HasField("limits"):
            out.task_resources.limits.CopyFrom(layer.task_resources.limits)
        if not out.HasField("max_parallelism") and layer.HasField("max_parallelism"):
            out.max_parallelism = layer.max_parallelism
        if not out.execution_queue and layer.execution_queue:
            out.execution_queue = layer.execution_queue
        if not out.HasField("quota") and layer.HasField("quota"):
            out.quota.CopyFrom(layer.quota)
        if not out.cluster and layer.cluster:
            out.cluster = layer.cluster
    if not out.task_resources.ListFields():
        out.ClearField("task_resources")
    return out
