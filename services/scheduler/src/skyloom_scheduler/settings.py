"""Settings of the scheduler: the shared sections plus ``admin`` and ``scheduler``.

Loaded by :func:`load` from ``SKYLOOM_SCHEDULER__*`` environment variables and an optional YAML
file (see :mod:`skyloom_common.config`), e.g. ``SKYLOOM_SCHEDULER__ADMIN__TARGET=admin:8089``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from skyloom_common.config import ServiceSettings, load_settings

__all__ = ["SERVICE_NAME", "AdminClientSettings", "SchedulerSection", "SchedulerSettings", "load"]

SERVICE_NAME = "scheduler"


class AdminClientSettings(BaseModel):
    """Where admin's gRPC API is, and the bearer token the scheduler presents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = "127.0.0.1:8089"
    token: SecretStr | None = None
    header: str = "authorization"
    timeout_seconds: float = Field(default=10.0, gt=0)


class SchedulerSection(BaseModel):
    """Leader lease, planning and dispatch timing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_name: str = Field(default="scheduler", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    instance_id: str | None = None
    """This replica's lease owner name; default: host name plus a random suffix."""
    lease_ttl_seconds: float = Field(default=15.0, gt=0)
    lease_renew_seconds: float = Field(default=5.0, gt=0)
    lease_margin_seconds: float = Field(default=3.0, ge=0)
    """A leader stops acting ``ttl - margin`` after the start of its last successful renewal
    (monotonic clock), so it is idle before anyone else can take the lease over."""
    tick_seconds: float = Field(default=1.0, gt=0)
    """Longest sleep of the planner (schedules are re-read from Postgres at least this often)."""
    catch_up_cap: int = Field(default=100, ge=1)
    """At most this many missed times are fired per schedule under policy ALL (the newest)."""
    catch_up_grace_seconds: float = Field(default=60.0, ge=0)
    """A fire at most this late is on time, not a catch-up (policy NONE still fires it)."""
    dispatch_batch: int = Field(default=32, ge=1)
    dispatch_poll_seconds: float = Field(default=0.5, gt=0)
    dispatch_claim_seconds: float = Field(default=30.0, gt=0)
    dispatch_retry_seconds: float = Field(default=1.0, gt=0)
    dispatch_max_retry_seconds: float = Field(default=60.0, gt=0)
    resync_retry_seconds: float = Field(default=2.0, gt=0)
    rate_minute_seconds: float = Field(default=60.0, gt=0)
    """How long a FixedRate minute lasts. Always 60 in production; tests and demos compress
    time with it (a 1-minute rate with 2 here fires every 2 seconds)."""
    statement_timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _lease_timing(self) -> Self:
        if self.lease_renew_seconds + self.lease_margin_seconds >= self.lease_ttl_seconds:
            raise ValueError("lease_renew_seconds + lease_margin_seconds must be below the ttl")
        return self


class SchedulerSettings(ServiceSettings):
    """Every section of :class:`ServiceSettings` plus ``admin`` and ``scheduler``."""

    admin: AdminClientSettings = AdminClientSettings()
    scheduler: SchedulerSection = SchedulerSection()


def load(config_file: Path | str | None = None) -> SchedulerSettings:
    """Settings from the environment, ``config_file`` and defaults (raises ``ConfigError``)."""
    return load_settings(SchedulerSettings, SERVICE_NAME, config_file=config_file)
