"""The executor Protocol and what every backend shares: argument templates and quantities.

Contract of every backend (the at-most-once half that lives outside the engine, ADR 0100):
- ``launch`` is idempotent on ``attempt_id``: the first call creates the attempt; any later call,
  by this object or by a new one after a restart, *adopts* the existing attempt and returns its
  status. No attempt id ever runs twice.
- ``status`` answers ``None`` only for an attempt the backend has never seen; a vanished attempt
  with no result is a retryable SYSTEM failure, never "unknown".
- ``abort`` tolerates attempts that finished or never existed.
"""

from __future__ import annotations

import re
from typing import Protocol

from skyloom_propeller.commands import LaunchAttempt
from skyloom_propeller.view import AttemptStatus

_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


class Executor(Protocol):
    async def launch(self, cmd: LaunchAttempt) -> AttemptStatus: ...

    async def status(self, attempt_id: str) -> AttemptStatus | None: ...

    async def abort(self, attempt_id: str, reason: str) -> None: ...


def render_args(argv: list[str], cmd: LaunchAttempt, checkpoint_prefix: str = "") -> list[str]:
    """Fill the SDK's ``{{inputs}}``-style placeholders of a task's command line."""
    values = {
        "{{inputs}}": cmd.inputs_uri,
        "{{output_prefix}}": cmd.output_prefix,
        "{{raw_output_prefix}}": cmd.raw_output_prefix,
        "{{checkpoint_prefix}}": checkpoint_prefix or cmd.output_prefix + "/checkpoint",
        "{{prev_checkpoint_prefix}}": "",
    }
    return [values.get(a, a) for a in argv]


def memory_bytes(quantity: str) -> int | None:
    """A Kubernetes memory quantity (``512Mi``, ``1G``) in bytes; None if unparseable."""
    m = _QUANTITY.match(quantity.strip())
    if not m or m.group(2) not in _SUFFIX:
        return None
    return int(float(m.group(1)) * _SUFFIX[m.group(2)])


def cpu_cores(quantity: str) -> float | None:
    """A CPU quantity (``500m``, ``2``) in cores; None if unparseable."""
    q = quantity.strip()
    try:
        return float(q[:-1]) / 1000 if q.endswith("m") else float(q)
    except ValueError:
        return None
