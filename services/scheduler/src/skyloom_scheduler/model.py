"""Plain data the scheduler's parts pass around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from skyloom_idl.admin import launch_plan_pb2
from skyloom_idl.core import identifier_pb2, literals_pb2

__all__ = ["FireRow", "StoredPlan", "plan_key"]


def plan_key(project: str, domain: str, name: str) -> str:
    """The key of a launch plan across versions (project and domain are DNS labels)."""
    return f"{project}/{domain}/{name}"


@dataclass(frozen=True)
class StoredPlan:
    """The active version of a launch plan name, as the scheduler's table holds it."""

    key: str
    launch_plan: launch_plan_pb2.LaunchPlan
    activated_at: datetime
    last_fired_at: datetime | None = None


@dataclass(frozen=True)
class FireRow:
    """An execution to start: ``kind`` is ``schedule`` or ``trigger``. A fire written with an
    ``outcome`` (e.g. ``rejected`` for unsatisfiable trigger bindings) is never sent."""

    name: str
    launch_plan: identifier_pb2.Identifier
    kind: str
    scheduled_at: datetime
    inputs: literals_pb2.LiteralMap = field(default_factory=literals_pb2.LiteralMap)
    trigger: str = ""
    catch_up: bool = False
    outcome: str | None = None
    error: str | None = None
    attempts: int = 0
