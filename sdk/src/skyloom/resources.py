"""Task settings that are plain values: resources, secrets, plugin configs, durations."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from google.protobuf import duration_pb2, struct_pb2

from skyloom_idl.core import security_pb2, tasks_pb2

_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")


@dataclass(frozen=True)
class Resources:
    """Compute resources of a task: ``Resources(cpu="1", mem="1Gi", gpu=1)``."""

    cpu: str | int | float | None = None
    mem: str | None = None
    gpu: str | int | None = None
    ephemeral_storage: str | None = None

    def __post_init__(self) -> None:
        for name, value in self._items():
            if not _QUANTITY.match(value):
                raise ValueError(
                    f"Resources({name}={value!r}) is not a quantity like '500m', '2Gi'"
                )

    def _items(self) -> list[tuple[str, str]]:
        fields = [
            ("cpu", self.cpu),
            ("mem", self.mem),
            ("gpu", self.gpu),
            ("ephemeral_storage", self.ephemeral_storage),
        ]
        return [(k, str(v)) for k, v in fields if v is not None]

    def entries(self) -> list[tasks_pb2.Resources.ResourceEntry]:
        names = {
            "cpu": tasks_pb2.Resources.RESOURCE_NAME_CPU,
            "mem": tasks_pb2.Resources.RESOURCE_NAME_MEMORY,
            "gpu": tasks_pb2.Resources.RESOURCE_NAME_GPU,
            "ephemeral_storage": tasks_pb2.Resources.RESOURCE_NAME_EPHEMERAL_STORAGE,
        }
        return [tasks_pb2.Resources.ResourceEntry(name=names[k], value=v) for k, v in self._items()]


def resources_proto(
    requests: Resources | None, limits: Resources | None, accelerator: str = ""
) -> tasks_pb2.Resources:
    return tasks_pb2.Resources(
        requests=requests.entries() if requests else [],
        limits=limits.entries() if limits else [],
        accelerator=accelerator,
    )


@dataclass(frozen=True)
class Secret:
    """A secret the task asks for by reference; mounted as an env var unless ``mount="file"``."""

    group: str
    key: str = ""
    mount: Literal["env_var", "file"] = "env_var"
    env_var: str = ""

    def to_proto(self) -> security_pb2.Secret:
        mount = (
            security_pb2.Secret.MOUNT_TYPE_FILE
            if self.mount == "file"
            else security_pb2.Secret.MOUNT_TYPE_ENV_VAR
        )
        return security_pb2.Secret(
            group=self.group, key=self.key, mount_requirement=mount, env_var=self.env_var
        )


@runtime_checkable
class TaskConfig(Protocol):
    """A plugin's task configuration: it names the task type and gives its custom struct."""

    def task_type(self) -> str: ...

    def custom(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PluginConfig:
    """A ready-made :class:`TaskConfig`: ``PluginConfig("spark", {"executors": 2})``."""

    type: str
    settings: dict[str, Any] = field(default_factory=dict)

    def task_type(self) -> str:
        return self.type

    def custom(self) -> dict[str, Any]:
        return dict(self.settings)


def struct_of(values: dict[str, Any]) -> struct_pb2.Struct:
    st = struct_pb2.Struct()
    st.update(values)
    return st


def required_duration(value: dt.timedelta | int | float) -> duration_pb2.Duration:
    """Seconds or a timedelta as a Duration."""
    d = duration(value)
    if d is None:
        raise ValueError("a duration is required")
    return d


def duration(value: dt.timedelta | int | float | None) -> duration_pb2.Duration | None:
    """Seconds or a timedelta as a Duration; None stays None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = dt.timedelta(seconds=value)
    if value.total_seconds() < 0:
        raise ValueError(f"a duration must not be negative, got {value}")
    d = duration_pb2.Duration()
    d.FromTimedelta(value)
    return d
