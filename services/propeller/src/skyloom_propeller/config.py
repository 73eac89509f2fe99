"""Engine settings that are not part of a workflow (platform defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """``max_system_failures``: attempts a node may lose to SYSTEM errors before it fails
    (Flyte ``max-node-retries-system-failures``, default 3). ``default_timeout_s``: per-attempt
    timeout for tasks that set none (0: none). ``producer_id`` goes on every event.
    ``reservation_heartbeat_s``: how often a node waiting on a cache reservation re-checks."""

    max_system_failures: int = 3
    default_timeout_s: float = 0.0
    producer_id: str = "propeller"
    reservation_heartbeat_s: float = 5.0
