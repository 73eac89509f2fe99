"""Retry, interruptible and timeout policies: pure decisions over a node's counters.

- USER errors spend the node's budget of ``retries + 1`` attempts, and are retried only when
  the error is retryable or the task sets ``retry_all_errors``. SYSTEM errors spend the
  platform's ``max_system_failures`` budget. Separate budgets: a lost worker never eats a user
  retry. A retryable failure that exhausts its budget fails with ``RetriesExhausted|<code>``.
- An interruptible task runs on interruptible capacity except on its last possible attempt
  (the one after which either budget would be spent): Flyte's default threshold of -1.
- The per-attempt timeout comes from the node metadata, else the node's overrides, else the
  task, else the platform default; exceeding it is a retryable USER ``TimeoutExpired``.
"""

from __future__ import annotations

from dataclasses import dataclass

from skyloom_idl.core import tasks_pb2, workflow_pb2
from skyloom_propeller.config import EngineConfig
from skyloom_propeller.context import SYSTEM
from skyloom_propeller.state import ErrorInfo

EXHAUSTED = "RetriesExhausted"
TIMEOUT_CODE = "TimeoutExpired"


@dataclass(frozen=True, slots=True)
class Budgets:
    """How many attempts each kind of failure may consume."""

    user_attempts: int
    system_failures: int
    retry_all_errors: bool


def budgets(node: workflow_pb2.Node, task: tasks_pb2.TaskTemplate, config: EngineConfig) -> Budgets:
    if node.metadata.HasField("retries"):
        retries = node.metadata.retries.retries
    elif node.task_node.overrides.HasField("retries"):
        retries = node.task_node.overrides.retries.retries
    else:
        retries = task.metadata.retries.retries
    return Budgets(retries + 1, config.max_system_failures, task.metadata.retry_all_errors)


@dataclass(frozen=True, slots=True)
class Verdict:
    """``retry``: run another attempt; otherwise the node fails with ``error``."""

    retry: bool
    error: ErrorInfo


def after_failure(err: ErrorInfo, user_failures: int, system_failures: int, b: Budgets) -> Verdict:
    """Decide after a failed attempt; the counters already include this failure."""
    if err.kind == SYSTEM:
        wanted, spent = err.retryable, system_failures >= b.system_failures
    else:
        wanted, spent = err.retryable or b.retry_all_errors, user_failures >= b.user_attempts
    if not wanted:
        return Verdict(False, err)
    if spent:
        exhausted = ErrorInfo(
            code=f"{EXHAUSTED}|{err.code}",
            message=err.message,
            kind=err.kind,
            retryable=False,
            uri=err.uri,
        )
        return Verdict(False, exhausted)
    return Verdict(True, err)


def interruptible(
    node: workflow_pb2.Node,
    task: tasks_pb2.TaskTemplate,
    wf_default: bool,
    user_failures: int,
    system_failures: int,
    b: Budgets,
) -> bool:
    """Whether the next attempt may run on interruptible capacity."""
    if node.metadata.HasField("interruptible"):
        flag = node.metadata.interruptible
    elif node.task_node.overrides.HasField("interruptible"):
        flag = node.task_node.overrides.interruptible
    else:
        flag = task.metadata.interruptible or wf_default
    last = user_failures + 1 >= b.user_attempts or system_failures + 1 >= b.system_failures
    return flag and not last


def timeout_s(node: workflow_pb2.Node, task: tasks_pb2.TaskTemplate, config: EngineConfig) -> float:
    for d in (node.metadata.timeout, node.task_node.overrides.timeout, task.metadata.timeout):
        seconds = d.seconds + d.nanos / 1e9
        if seconds > 0:
            return seconds
    return config.default_timeout_s
