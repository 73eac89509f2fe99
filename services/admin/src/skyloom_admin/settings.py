"""Settings of the admin service: the shared sections plus ``admin``.

Loaded by :func:`load` from ``SKYLOOM_ADMIN__*`` environment variables and an optional YAML
file (see :mod:`skyloom_common.config`), e.g. ``SKYLOOM_ADMIN__ADMIN__DOMAINS='["dev","prod"]'``.

Auth reuses the shared ``auth`` section, which has no default mode: ``disabled`` turns every
check off (explicitly), ``static_token`` makes each ``static_tokens`` entry a *bootstrap
platform-admin token* (at least 32 characters; the section refuses to load without one).
Every other token is created through ``CreateAuthToken`` and stored hashed.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from skyloom_common.config import ServiceSettings, load_settings

__all__ = [
    "SERVICE_NAME",
    "AdminSection",
    "AdminSettings",
    "DefaultAttributes",
    "UploadSettings",
    "load",
]

SERVICE_NAME = "admin"
_LABEL = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefaultAttributes(_Section):
    """The configuration layer of attribute resolution (the least specific one)."""

    max_parallelism: int = Field(default=25, ge=0)
    execution_queue: str = "default"
    cpu_request: str = "500m"
    memory_request: str = "512Mi"
    cpu_limit: str = "2"
    memory_limit: str = "4Gi"


class UploadSettings(_Section):
    """CreateUploadLocation: URL lifetimes, and the file:// data proxy's signing secret."""

    default_expiry_seconds: int = Field(default=3600, ge=1)
    max_expiry_seconds: int = Field(default=24 * 3600, ge=1, le=7 * 24 * 3600)
    prefix: str | None = None
    """Where uploads go; defaults to ``blob.prefix`` + ``/uploads``."""
    file_signing_secret: SecretStr | None = Field(default=None, min_length=32)
    """Shared with the sandbox data proxy (file:// stores only); at least 32 characters."""
    file_signed_url_base: str | None = None


class AdminSection(_Section):
    schema_name: str = Field(default="admin", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    domains: tuple[str, ...] = ("development", "staging", "production")
    statement_timeout_seconds: float = Field(default=10.0, gt=0)
    max_inline_data_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Work items go to subjects skyloom.work.<0..work_shards-1>, by a hash of the execution.
    work_shards: int = Field(default=1, ge=1, le=1024)
    # Webhook notifications to loopback, private or link-local addresses (off: SSRF guard).
    allow_private_webhooks: bool = False
    version: str = "0.1.0"
    build: str = "dev"
    defaults: DefaultAttributes = DefaultAttributes()
    upload: UploadSettings = UploadSettings()

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in value if not re.match(_LABEL, d)]
        if bad or not value or len(set(value)) != len(value):
            raise ValueError(f"domains must be distinct DNS-1123 labels, got {list(value)}")
        return value


class AdminSettings(ServiceSettings):
    """Every section of :class:`ServiceSettings` plus :class:`AdminSection`."""

    admin: AdminSection = AdminSection()


def load(config_file: Path | str | None = None) -> AdminSettings:
    """Settings from the environment, ``config_file`` and defaults (raises ``ConfigError``)."""
    return load_settings(AdminSettings, SERVICE_NAME, config_file=config_file)
