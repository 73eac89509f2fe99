"""Compilation state of the workflow (or dynamic) body being traced, held in a ContextVar."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skyloom.core.node import NodeBuilder

_STATE: ContextVar[CompileState | None] = ContextVar("skyloom_compile_state", default=None)


@dataclass
class CompileState:
    """Nodes and referenced entities collected while a body runs with promises."""

    name: str  # the workflow's short name, for messages
    location: str  # file:line of its definition
    node_prefix: str = "n"
    nodes: list[NodeBuilder] = field(default_factory=list)
    # id key -> the entity (task, workflow, launch plan) a node refers to
    entities: dict[str, Any] = field(default_factory=dict)
    _next: int = 0

    def next_id(self) -> str:
        node_id = f"{self.node_prefix}{self._next}"
        self._next += 1
        return node_id

    def where(self, location: str) -> str:
        """The prefix of every compile message: ``pipeline (wf.py:12)``."""
        return f"{self.name} ({location})"


def current_state() -> CompileState | None:
    """The state of the body being compiled in this context, if any."""
    return _STATE.get()


@contextlib.contextmanager
def compiling(state: CompileState) -> Iterator[CompileState]:
    """Trace a body: entity calls inside build nodes instead of running."""
    token = _STATE.set(state)
    try:
        yield state
    finally:
        _STATE.reset(token)


@contextlib.contextmanager
def not_compiling() -> Iterator[None]:
    """Run code (e.g. a dynamic task's body at run time) outside any outer trace."""
    token = _STATE.set(None)
    try:
        yield
    finally:
        _STATE.reset(token)
