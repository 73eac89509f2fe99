"""Launch plans: a workflow with default and fixed inputs, a schedule and notifications."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from google.protobuf import json_format

from skyloom._engine import compile_context, engine, transfer_context
from skyloom._errors import CompileError
from skyloom._source import caller_location
from skyloom.core._state import CompileState
from skyloom.core.node import call
from skyloom.types import PythonInterface
from skyloom_idl.core import identifier_pb2, literals_pb2, workflow_pb2

_CRON_ALIASES = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"}
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")
Phase = Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


@dataclass(frozen=True)
class CronSchedule:
    """Fire on a cron expression (5 fields or @daily-style aliases)."""

    expression: str
    kickoff_time_input: str = ""

    def __post_init__(self) -> None:
        parts = self.expression.split()
        ok = self.expression in _CRON_ALIASES or (
            len(parts) == 5 and all(_CRON_FIELD.match(p) for p in parts)
        )
        if not ok:
            raise ValueError(f"CronSchedule({self.expression!r}) is not a 5-field cron expression")


@dataclass(frozen=True)
class FixedRate:
    """Fire every ``every`` (at least one minute)."""

    every: dt.timedelta
    kickoff_time_input: str = ""

    def __post_init__(self) -> None:
        if self.every < dt.timedelta(minutes=1):
            raise ValueError(f"FixedRate(every={self.every}) must be at least one minute")


@dataclass(frozen=True)
class Notification:
    """Tell someone when an execution reaches one of ``phases``."""

    phases: tuple[Phase, ...]
    recipients: tuple[str, ...]
    channel: Literal["email", "slack", "pagerduty"] = "email"


def Email(phases: list[Phase], recipients: list[str]) -> Notification:
    return Notification(tuple(phases), tuple(recipients), "email")


def Slack(phases: list[Phase], recipients: list[str]) -> Notification:
    return Notification(tuple(phases), tuple(recipients), "slack")


def PagerDuty(phases: list[Phase], recipients: list[str]) -> Notification:
    return Notification(tuple(phases), tuple(recipients), "pagerduty")


@dataclass(frozen=True)
class Concurrency:
    """At most ``max`` running executions; ``policy`` says what a further launch does."""

    max: int = 1
    policy: Literal["wait", "abort", "replace"] = "wait"


@dataclass
class LaunchPlan:
    """A named way to launch a workflow. Create with :meth:`get_or_create`."""

    workflow: Any
    name: str
    default_inputs: dict[str, Any] = field(default_factory=dict)
    fixed_inputs: dict[str, Any] = field(default_factory=dict)
    schedule: CronSchedule | FixedRate | None = None
    notifications: tuple[Notification, ...] = ()
    max_parallelism: int = 0
    concurrency: Concurrency | None = None
    location: str = ""

    kind: ClassVar[str] = "launch plan"
    output_tuple: ClassVar[Any] = None
    # Per-process registry, as in flytekit: get_or_create returns the same object for a name.
    _CACHE: ClassVar[dict[str, LaunchPlan]] = {}

    @classmethod
    def get_or_create(
        cls,
        workflow: Any,
        name: str | None = None,
        *,
        default_inputs: dict[str, Any] | None = None,
        fixed_inputs: dict[str, Any] | None = None,
        schedule: CronSchedule | FixedRate | None = None,
        notifications: list[Notification] | tuple[Notification, ...] = (),
        max_parallelism: int = 0,
        concurrency: Concurrency | None = None,
    ) -> LaunchPlan:
        """The launch plan ``name`` of ``workflow`` (its default plan when no name)."""
        lp = cls(
            workflow,
            name or workflow.name,
            dict(default_inputs or {}),
            dict(fixed_inputs or {}),
            schedule,
            tuple(notifications),
            max_parallelism,
            concurrency,
            caller_location(),
        )
        existing = cls._CACHE.get(lp.name)
        if existing is not None:
            if existing.spec() != lp.spec():
                raise CompileError(
                    f"launch plan {lp.name} ({lp.location}) already exists with different settings "
                    f"(created at {existing.location})",
                    location=lp.location,
                )
            return existing
        lp._validate()
        cls._CACHE[lp.name] = lp
        return lp

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def id(self) -> identifier_pb2.Identifier:
        return identifier_pb2.Identifier(
            resource_type=identifier_pb2.RESOURCE_TYPE_LAUNCH_PLAN, name=self.name
        )

    def _validate(self) -> None:
        where = f"launch plan {self.name} ({self.location})"
        ins = self.workflow.py_interface.inputs
        for kind, values in (("default", self.default_inputs), ("fixed", self.fixed_inputs)):
            for k, v in values.items():
                if k not in ins:
                    raise CompileError(
                        f"{where}: {kind} input '{k}' is not an input of the workflow"
                    )
                try:
                    engine().to_literal(v, ins[k], compile_context())
                except (TypeError, ValueError) as err:
                    raise CompileError(f"{where}: {kind} input '{k}': {err}") from err
        both = sorted(set(self.default_inputs) & set(self.fixed_inputs))
        if both:
            raise CompileError(f"{where}: inputs {', '.join(both)} are both default and fixed")
        if self.schedule is not None:
            kick = self.schedule.kickoff_time_input
            if kick and ins.get(kick) is not dt.datetime:
                raise CompileError(f"{where}: kickoff_time_input '{kick}' must be a datetime input")
            missing = [
                n
                for n in self.py_interface.inputs
                if n not in self.py_interface.defaults and n != kick
            ]
            if missing:
                raise CompileError(
                    f"{where}: a scheduled launch plan needs defaults for {', '.join(missing)}"
                )

    @property
    def py_interface(self) -> PythonInterface:
        wf: PythonInterface = self.workflow.py_interface
        return dataclasses.replace(
            wf,
            inputs={k: t for k, t in wf.inputs.items() if k not in self.fixed_inputs},
            defaults={**wf.defaults, **self.default_inputs},
        )

    def literal_inputs(
        self, given: literals_pb2.LiteralMap, raw_dir: Path | None = None
    ) -> literals_pb2.LiteralMap:
        """Workflow inputs: defaults, then what was given, then the fixed inputs."""
        ins = self.workflow.py_interface.inputs
        ctx = compile_context() if raw_dir is None else transfer_context(raw_dir)
        out = literals_pb2.LiteralMap()
        for k, v in self.py_interface.defaults.items():
            out.literals[k].CopyFrom(engine().to_literal(v, ins[k], ctx))
        for k, lit in given.literals.items():
            out.literals[k].CopyFrom(lit)
        for k, v in self.fixed_inputs.items():
            out.literals[k].CopyFrom(engine().to_literal(v, ins[k], ctx))
        return out

    def spec(self) -> dict[str, Any]:
        """A JSON-able description (what registration will send)."""
        lm = self.literal_inputs(literals_pb2.LiteralMap())
        sched: dict[str, Any] | None = None
        if isinstance(self.schedule, CronSchedule):
            sched = {
                "cron": self.schedule.expression,
                "kickoff_time_input": self.schedule.kickoff_time_input,
            }
        elif isinstance(self.schedule, FixedRate):
            sched = {
                "every_seconds": self.schedule.every.total_seconds(),
                "kickoff_time_input": self.schedule.kickoff_time_input,
            }
        return {
            "name": self.name,
            "workflow": self.workflow.name,
            "inputs": json_format.MessageToDict(lm, preserving_proto_field_name=True),
            "fixed": sorted(self.fixed_inputs),
            "schedule": sched,
            "notifications": [
                {"channel": n.channel, "phases": list(n.phases), "recipients": list(n.recipients)}
                for n in self.notifications
            ],
            "max_parallelism": self.max_parallelism,
            "concurrency": None
            if self.concurrency is None
            else {"max": self.concurrency.max, "policy": self.concurrency.policy},
        }

    def fill_node(self, node: workflow_pb2.Node, state: CompileState) -> None:
        node.workflow_node.launchplan_ref.CopyFrom(self.id)
        state.entities["lp:" + self.name] = self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return call(self, args, kwargs)
