"""Prometheus metrics of the scheduler, on the runtime's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["SchedulerMetrics"]

_LATENESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 86400)


class SchedulerMetrics:
    """Fires, lateness of each fire, catch-ups, skipped times, leadership."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.fires = Counter(
            "skyloom_scheduler_fires",
            "Fires sent to admin, by kind (schedule, trigger) and outcome "
            "(created, already_exists, rejected).",
            ["kind", "outcome"],
            registry=registry,
        )
        self.lateness = Histogram(
            "skyloom_scheduler_fire_lateness_seconds",
            "Seconds between a fire's scheduled time and admin accepting it.",
            ["kind"],
            buckets=_LATENESS_BUCKETS,
            registry=registry,
        )
        self.catch_ups = Counter(
            "skyloom_scheduler_catch_up_fires",
            "Missed scheduled times fired late by catch-up policy.",
            ["policy"],
            registry=registry,
        )
        self.skipped = Counter(
            "skyloom_scheduler_skipped_fires",
            "Missed scheduled times the catch-up policy (or its cap) dropped.",
            ["policy"],
            registry=registry,
        )
        self.dispatch_errors = Counter(
            "skyloom_scheduler_dispatch_errors",
            "Transient failures sending a fire to admin (retried).",
            registry=registry,
        )
        self.leader_changes = Counter(
            "skyloom_scheduler_leader_changes",
            "Times this replica became leader (a new lease epoch).",
            registry=registry,
        )
        self.is_leader = Gauge(
            "skyloom_scheduler_is_leader",
            "1 while this replica holds the lease and may act on it.",
            registry=registry,
        )
        self.stale_writes = Counter(
            "skyloom_scheduler_stale_epoch_writes",
            "Writes rejected because this replica's epoch was no longer current.",
            registry=registry,
        )
        self.active_schedules = Gauge(
            "skyloom_scheduler_active_schedules",
            "Active launch plans with a schedule, as last read by the leader.",
            registry=registry,
        )
