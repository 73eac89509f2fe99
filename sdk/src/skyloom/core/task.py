"""``@task``: a typed Python function that compiles to a TaskTemplate."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar, overload

from skyloom._engine import engine
from skyloom._errors import CompileError, RetryableError
from skyloom._interface import interface_of
from skyloom._source import object_location
from skyloom.core._state import CompileState
from skyloom.core.node import call
from skyloom.resources import (
    Resources,
    Secret,
    TaskConfig,
    duration,
    required_duration,
    resources_proto,
    struct_of,
)
from skyloom_idl.core import identifier_pb2, literals_pb2, security_pb2, tasks_pb2, workflow_pb2

P = ParamSpec("P")
R = TypeVar("R")

SDK_VERSION = "0.1.0"
DEFAULT_IMAGE = "ghcr.io/skyloom/python:0.1.0"


@dataclass(frozen=True)
class TaskSettings:
    """The ``@task`` keyword arguments, validated."""

    cache: bool = False
    cache_version: str = ""
    cache_serialize: bool = False
    cache_ignored_inputs: tuple[str, ...] = ()
    retries: int = 0
    timeout: Any = None
    interruptible: bool = False
    requests: Resources | None = None
    limits: Resources | None = None
    accelerator: str = ""
    secret_requests: tuple[Secret, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    container_image: str = ""
    task_config: TaskConfig | None = None
    retry_on: tuple[type[BaseException], ...] = ()
    retry_all_errors: bool = False


class PythonTask(Generic[P, R]):
    """A task. Call it in a workflow to add a node; call it elsewhere to run it locally."""

    kind = "task"
    task_type = "python"
    is_dynamic = False

    def __init__(self, fn: Callable[P, R], settings: TaskSettings) -> None:
        self.fn = fn
        self.settings = settings
        self.location = object_location(fn)
        self.module = fn.__module__
        self.short_name = fn.__name__
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        self.py_interface = interface_of(fn, self.kind)
        self.output_tuple = self.py_interface.output_tuple
        functools.update_wrapper(self, fn)
        self._validate()
        self._template: tasks_pb2.TaskTemplate | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    def _validate(self) -> None:
        where = f"task {self.short_name} ({self.location})"
        s = self.settings
        if s.retries < 0:
            raise CompileError(
                f"{where}: retries must be >= 0, got {s.retries}", location=self.location
            )
        if s.cache_version and not s.cache:
            raise CompileError(
                f"{where}: cache_version is set but cache is off; add cache=True",
                location=self.location,
            )
        for name in s.cache_ignored_inputs:
            if name not in self.py_interface.inputs:
                raise CompileError(
                    f"{where}: cache_ignored_inputs names '{name}', which is not an input "
                    f"(inputs: {', '.join(self.py_interface.inputs) or 'none'})",
                    location=self.location,
                )
        for exc in s.retry_on:
            if not (isinstance(exc, type) and issubclass(exc, BaseException)):
                raise CompileError(f"{where}: retry_on takes exception classes, got {exc!r}")
        try:
            duration(s.timeout)
        except (ValueError, TypeError) as err:
            raise CompileError(f"{where}: timeout: {err}", location=self.location) from err

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        result: R = call(self, args, kwargs)
        return result

    @property
    def id(self) -> identifier_pb2.Identifier:
        return identifier_pb2.Identifier(
            resource_type=identifier_pb2.RESOURCE_TYPE_TASK, name=self.name
        )

    def fill_node(self, node: workflow_pb2.Node, state: CompileState) -> None:
        node.task_node.reference_id.CopyFrom(self.id)
        state.entities[self.name] = self

    def is_retryable(self, err: BaseException) -> bool:
        """Whether a user error may succeed on another attempt."""
        s = self.settings
        return s.retry_all_errors or isinstance(err, (RetryableError, *s.retry_on))

    @property
    def template(self) -> tasks_pb2.TaskTemplate:
        """The TaskTemplate (a new message each call: callers may modify it)."""
        out = tasks_pb2.TaskTemplate()
        out.CopyFrom(self.shared_template)
        return out

    @property
    def shared_template(self) -> tasks_pb2.TaskTemplate:
        """The TaskTemplate, built once and shared: read it, never modify it (the local
        executor reads it on every attempt, where a copy would cost more than the task)."""
        if self._template is None:
            self._template = self._build_template()
        return self._template

    def _cache_version(self) -> str:
        if self.settings.cache_version:
            return self.settings.cache_version
        try:
            source = inspect.getsource(self.fn)
        except (OSError, TypeError):
            source = self.name
        return "src-" + hashlib.sha256(source.encode()).hexdigest()[:16]

    def _build_template(self) -> tasks_pb2.TaskTemplate:
        s = self.settings
        meta = tasks_pb2.TaskMetadata(
            runtime=tasks_pb2.RuntimeMetadata(
                type=tasks_pb2.RuntimeMetadata.RUNTIME_TYPE_SKYLOOM_SDK,
                version=SDK_VERSION,
                flavor="python",
            ),
            retries=literals_pb2.RetryStrategy(retries=s.retries),
            interruptible=s.interruptible,
            retry_all_errors=s.retry_all_errors,
            source_location=f"{self.name} ({self.location})",
            description=self.py_interface.docstring,
        )
        if s.timeout is not None:
            meta.timeout.CopyFrom(required_duration(s.timeout))
        if s.cache:
            meta.cache.CopyFrom(
                tasks_pb2.CacheConfig(
                    enabled=True,
                    version=self._cache_version(),
                    serialize=s.cache_serialize,
                    ignored_inputs=sorted(s.cache_ignored_inputs),
                )
            )
        tmpl = tasks_pb2.TaskTemplate(
            id=self.id,
            type=s.task_config.task_type() if s.task_config else self.task_type,
            metadata=meta,
            interface=engine().interface(self.py_interface),
            container=tasks_pb2.Container(
                image=s.container_image or DEFAULT_IMAGE,
                command=["skyloom-execute"],
                args=self._args(),
                resources=resources_proto(s.requests, s.limits, s.accelerator),
                env=[
                    literals_pb2.KeyValuePair(key=k, value=v)
                    for k, v in sorted(s.environment.items())
                ],
            ),
            security_context=security_pb2.SecurityContext(
                secrets=[x.to_proto() for x in s.secret_requests]
            ),
        )
        if s.task_config is not None:
            tmpl.custom.CopyFrom(struct_of(s.task_config.custom()))
        return tmpl

    def _args(self) -> list[str]:
        return [
            "--inputs", "{{inputs}}",
            "--output-prefix", "{{output_prefix}}",
            "--raw-output-prefix", "{{raw_output_prefix}}",
            "--checkpoint-prefix", "{{checkpoint_prefix}}",
            "--prev-checkpoint-prefix", "{{prev_checkpoint_prefix}}",
            "--module", self.module,
            "--task", self.fn.__qualname__,
        ]  # fmt: skip

    def execute(self, **kwargs: Any) -> Any:
        """Call the author's function with Python values (no conversion, no retries)."""
        fn: Callable[..., Any] = self.fn
        return fn(**kwargs)


def _settings(
    *,
    cache: bool,
    cache_version: str,
    cache_serialize: bool,
    cache_ignored_inputs: Sequence[str],
    retries: int,
    timeout: Any,
    interruptible: bool,
    requests: Resources | None,
    limits: Resources | None,
    accelerator: str,
    secret_requests: Sequence[Secret],
    environment: Mapping[str, str] | None,
    container_image: str,
    task_config: TaskConfig | None,
    retry_on: Sequence[type[BaseException]],
    retry_all_errors: bool,
) -> TaskSettings:
    return TaskSettings(
        cache=cache,
        cache_version=cache_version,
        cache_serialize=cache_serialize,
        cache_ignored_inputs=tuple(cache_ignored_inputs),
        retries=retries,
        timeout=timeout,
        interruptible=interruptible,
        requests=requests,
        limits=limits,
        accelerator=accelerator,
        secret_requests=tuple(secret_requests),
        environment=dict(environment or {}),
        container_image=container_image,
        task_config=task_config,
        retry_on=tuple(retry_on),
        retry_all_errors=retry_all_errors,
    )


@overload
def task(fn: Callable[P, R], /) -> PythonTask[P, R]: ...


@overload
def task(
    *,
    cache: bool = False,
    cache_version: str = "",
    cache_serialize: bool = False,
    cache_ignored_inputs: Sequence[str] = (),
    retries: int = 0,
    timeout: Any = None,
    interruptible: bool = False,
    requests: Resources | None = None,
    limits: Resources | None = None,
    accelerator: str = "",
    secret_requests: Sequence[Secret] = (),
    environment: Mapping[str, str] | None = None,
    container_image: str = "",
    task_config: TaskConfig | None = None,
    retry_on: Sequence[type[BaseException]] = (),
    retry_all_errors: bool = False,
) -> Callable[[Callable[P, R]], PythonTask[P, R]]: ...


def task(fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
    """Make a function a task. Options mirror flytekit's ``@task``; see :class:`TaskSettings`."""
    settings = _settings(**{**_DEFAULTS, **options})

    def wrap(f: Callable[P, R]) -> PythonTask[P, R]:
        try:
            return PythonTask(f, settings)
        except CompileError as err:
            raise err.with_traceback(None) from err.__cause__

    return wrap(fn) if fn is not None else wrap


_DEFAULTS: dict[str, Any] = {
    "cache": False,
    "cache_version": "",
    "cache_serialize": False,
    "cache_ignored_inputs": (),
    "retries": 0,
    "timeout": None,
    "interruptible": False,
    "requests": None,
    "limits": None,
    "accelerator": "",
    "secret_requests": (),
    "environment": None,
    "container_image": "",
    "task_config": None,
    "retry_on": (),
    "retry_all_errors": False,
}
