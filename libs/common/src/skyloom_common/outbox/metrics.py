"""Prometheus metrics of the outbox relay, created on a registry the service passes in."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

__all__ = ["OutboxMetrics"]


class OutboxMetrics:
    """One set per registry (creating two on the same registry raises, as prometheus-client
    does for any duplicate); every series is labelled with the outbox's schema."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else REGISTRY
        self.backlog = Gauge(
            "skyloom_outbox_backlog",
            "Outbox rows waiting to be published.",
            ["schema"],
            registry=registry,
        )
        self.published = Counter(
            "skyloom_outbox_published",
            "Outbox rows published and marked.",
            ["schema"],
            registry=registry,
        )
        self.duplicates = Counter(
            "skyloom_outbox_duplicates",
            "Publishes JetStream reported as duplicates (re-publish after a relay crash).",
            ["schema"],
            registry=registry,
        )
        self.failures = Counter(
            "skyloom_outbox_failures",
            "Relay rounds that failed (NATS or Postgres unavailable) and will be retried.",
            ["schema"],
            registry=registry,
        )
