"""Settings of the datacatalog service: the shared sections plus ``catalog``.

Loaded by :func:`load` from ``SKYLOOM_DATACATALOG__*`` environment variables and an optional
YAML file (see :mod:`skyloom_common.config`), e.g.
``SKYLOOM_DATACATALOG__CATALOG__MAX_HEARTBEAT_SECONDS=30``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from skyloom_common.config import ServiceSettings, load_settings

__all__ = ["SERVICE_NAME", "CatalogSettings", "DatacatalogSettings", "load"]

SERVICE_NAME = "datacatalog"


class CatalogSettings(BaseModel):
    """Limits and reservation timing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_name: str = Field(default="datacatalog", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """The Postgres schema holding the catalog's tables (its migrations create it)."""
    default_heartbeat_seconds: float = Field(default=10.0, gt=0)
    """Used when a reservation request carries no heartbeat interval."""
    max_heartbeat_seconds: float = Field(default=60.0, gt=0)
    """Requested heartbeat intervals are capped at this (Flyte's ``HeartbeatIntervalMax``)."""
    heartbeat_grace_multiplier: float = Field(default=3.0, ge=1.0)
    """A reservation lapses ``heartbeat × multiplier`` after its last extension."""
    max_inline_bytes: int = Field(default=1024 * 1024, ge=1024)
    """The largest artifact (sum of its literals' wire sizes) stored inline in Postgres; a
    bigger one must be written to the blob store and referenced by a Blob literal's URI."""
    statement_timeout_seconds: float = Field(default=5.0, gt=0)
    reservation_gauge_seconds: float = Field(default=15.0, gt=0)
    """How often the ``reservations held`` gauge is refreshed from the database."""


class DatacatalogSettings(ServiceSettings):
    """Every section of :class:`ServiceSettings` plus :class:`CatalogSettings`."""

    catalog: CatalogSettings = CatalogSettings()


def load(config_file: Path | str | None = None) -> DatacatalogSettings:
    """Settings from the environment, ``config_file`` and defaults (raises ``ConfigError``)."""
    return load_settings(DatacatalogSettings, SERVICE_NAME, config_file=config_file)
