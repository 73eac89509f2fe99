"""Nodes: what calling an entity inside a workflow body creates, and how its inputs bind."""

from __future__ import annotations

import typing
from typing import Any, Protocol

from skyloom._engine import compile_context, engine
from skyloom._errors import CompileError
from skyloom._source import caller_location
from skyloom.core._state import CompileState, current_state
from skyloom.core.promise import Promise, contains_promise, literal_to_binding, order
from skyloom.resources import Resources, required_duration, resources_proto
from skyloom.types import PythonInterface
from skyloom.types.hints import type_name
from skyloom_core.types import is_castable
from skyloom_idl.core import literals_pb2, tasks_pb2, workflow_pb2


class Entity(Protocol):
    """Anything a workflow body can call: tasks, workflows, launch plans, map tasks."""

    @property
    def short_name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def py_interface(self) -> PythonInterface: ...

    def fill_node(self, node: workflow_pb2.Node, state: CompileState) -> None:
        """Set the node's target and register the templates it refers to in ``state``."""


class NodeBuilder:
    """A node under construction; returned by calls with no outputs, reachable as promise.node."""

    def __init__(self, proto: workflow_pb2.Node, entity: Any, output_types: dict[str, Any]) -> None:
        self.proto = proto
        self.entity = entity
        self.output_types = output_types
        # branch nodes: the nodes of their branches; array nodes: their sub-node
        self.inner: list[NodeBuilder] = []
        self.mapped_inputs: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"Node({self.proto.id}: {self.proto.metadata.name})"

    def __rshift__(self, other: Any) -> Any:
        return order(self, other)

    def with_overrides(
        self,
        *,
        name: str | None = None,
        requests: Resources | None = None,
        limits: Resources | None = None,
        accelerator: str = "",
        container_image: str | None = None,
        retries: int | None = None,
        timeout: Any = None,
        interruptible: bool | None = None,
        cache: bool | None = None,
        cache_version: str | None = None,
    ) -> NodeBuilder:
        """Override the target's settings for this node only."""
        p = self.proto
        if name is not None:
            p.metadata.name = name
        if p.HasField("task_node"):
            o = p.task_node.overrides
            if requests or limits or accelerator:
                o.resources.CopyFrom(resources_proto(requests, limits, accelerator))
            if container_image is not None:
                o.container_image = container_image
            if retries is not None:
                o.retries.retries = _non_negative(retries)
            if timeout is not None:
                o.timeout.CopyFrom(required_duration(timeout))
            if interruptible is not None:
                o.interruptible = interruptible
            if cache is not None or cache_version is not None:
                base = getattr(self.entity, "template", None)
                own = base.metadata.cache if base is not None else tasks_pb2.CacheConfig()
                enabled = own.enabled if cache is None else cache
                version = cache_version or own.version
                if enabled and not version:  # a cache is never unversioned (see libs/core)
                    version = self.entity._cache_version()
                o.cache.CopyFrom(
                    tasks_pb2.CacheConfig(
                        enabled=enabled,
                        version=version,
                        serialize=own.serialize,
                        ignored_inputs=own.ignored_inputs,
                    )
                )
            return self
        if retries is not None:
            p.metadata.retries.retries = _non_negative(retries)
        if timeout is not None:
            p.metadata.timeout.CopyFrom(required_duration(timeout))
        if interruptible is not None:
            p.metadata.interruptible = interruptible
        return self

    def outputs(self) -> Any:
        """What the call returns in the body: None-like node, one promise, or a tuple."""
        label = self.proto.metadata.name
        promises = [
            Promise(self.proto.id, var, t, node=self, label=f"{label}.{var}")
            for var, t in self.output_types.items()
        ]
        if not promises:
            return self
        tuple_type = getattr(self.entity, "output_tuple", None)
        if tuple_type not in (None, tuple):  # a NamedTuple
            return tuple_type(*promises)
        return promises[0] if len(promises) == 1 else tuple(promises)


def _non_negative(n: int) -> int:
    if n < 0:
        raise ValueError(f"retries must be >= 0, got {n}")
    return n


def call(entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``entity(*args, **kwargs)``: a node in the workflow body being compiled, else a local run
    returning Python values."""
    state = current_state()
    if state is not None:
        return call_in_body(entity, state, args, kwargs)
    from skyloom.local.run import run_entity

    return run_entity(entity, args, kwargs)


def call_in_body(
    entity: Any, state: CompileState, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Add a node for ``entity(*args, **kwargs)`` to the body being compiled."""
    location = caller_location()
    node = new_node(state, entity, location)
    bind_inputs(node.proto, entity, state, location, args, kwargs)
    entity.fill_node(node.proto, state)
    state.nodes.append(node)
    return node.outputs()


def new_node(state: CompileState, entity: Any, location: str) -> NodeBuilder:
    proto = workflow_pb2.Node(
        id=state.next_id(),
        metadata=workflow_pb2.NodeMetadata(name=entity.short_name, source_location=location),
    )
    return NodeBuilder(proto, entity, dict(entity.py_interface.outputs))


def bind_inputs(
    proto: workflow_pb2.Node,
    entity: Any,
    state: CompileState,
    location: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Bind every input, checking names and types."""
    iface = entity.py_interface
    where = state.where(location)
    names = list(iface.inputs)
    if len(args) > len(names):
        raise CompileError(
            f"{where}: {entity.kind} {entity.short_name} takes {len(names)} inputs, "
            f"got {len(args)} positional arguments",
            location=location,
            code="TooManyArguments",
        )
    values = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in iface.inputs:
            raise CompileError(
                f"{where}: {entity.kind} {entity.short_name} has no input '{key}' "
                f"(inputs: {', '.join(names) or 'none'})",
                location=location,
                code="UnknownInput",
            )
        if key in values:
            raise CompileError(
                f"{where}: input '{key}' of {entity.short_name} is given twice",
                location=location,
                code="ParameterBoundMoreThanOnce",
            )
        values[key] = value
    for name in names:
        if name not in values:
            if name in iface.defaults:
                values[name] = iface.defaults[name]
            else:
                raise CompileError(
                    f"{where}: input '{name}' of {entity.short_name} is not bound",
                    location=location,
                    code="ParameterNotBound",
                )
        t = iface.inputs[name]
        what = f"input '{name}' of {entity.short_name}"
        data = bind_value(values[name], t, what, where, location)
        proto.inputs.append(literals_pb2.Binding(var=name, binding=data))


def bind_value(
    value: Any, py_type: Any, what: str, where: str, location: str
) -> literals_pb2.BindingData:
    """Binding data for ``value`` (a promise, a constant, or a list/dict holding promises)."""
    expected = engine().literal_type(py_type)
    if isinstance(value, Promise):
        if not is_castable(value.literal_type, expected):
            raise CompileError(
                f"{where}: {what} expects {type_name(py_type)}, "
                f"got {type_name(value.py_type)} from {value.label}",
                location=location,
                code="MismatchingTypes",
            )
        return literals_pb2.BindingData(promise=value.ref())
    origin, targs = typing.get_origin(py_type), typing.get_args(py_type)
    if contains_promise(value):
        if origin is list and isinstance(value, list | tuple):
            return literals_pb2.BindingData(
                collection=literals_pb2.BindingDataCollection(
                    bindings=[bind_value(v, targs[0], what, where, location) for v in value]
                )
            )
        if origin is dict and isinstance(value, dict):
            return literals_pb2.BindingData(
                map=literals_pb2.BindingDataMap(
                    bindings={
                        k: bind_value(v, targs[1], what, where, location) for k, v in value.items()
                    }
                )
            )
        raise CompileError(
            f"{where}: {what} expects {type_name(py_type)}, got {value!r}",
            location=location,
            code="MismatchingTypes",
        )
    if isinstance(value, NodeBuilder):
        raise CompileError(
            f"{where}: {what} is bound to {value.proto.metadata.name}, which has no outputs",
            location=location,
            code="MismatchingTypes",
        )
    try:
        lit = engine().to_literal(value, py_type, compile_context())
    except (TypeError, ValueError, AttributeError) as err:
        raise CompileError(
            f"{where}: {what} expects {type_name(py_type)}, got {type(value).__name__} "
            f"value {value!r}",
            location=location,
            code="MismatchingTypes",
        ) from err
    return literal_to_binding(lit)
