"""Typed settings shared by every Skyloom service.

Each service subclasses :class:`ServiceSettings` (adding its own sections) and loads it with
:func:`load_settings`. Sources, highest precedence first:

1. environment variables ``SKYLOOM_<SERVICE>__<FIELD>``, nested with ``__``
   (``SKYLOOM_ADMIN__GRPC__PORT=0``); complex values (dicts, lists) as JSON;
2. a YAML file, from the ``config_file`` argument or ``SKYLOOM_<SERVICE>__CONFIG_FILE``;
3. the defaults declared here.

Unknown keys in the file are errors (a typo must not silently fall back to a default).
Secrets are ``SecretStr``: they print as ``**********`` in logs, reprs and ``model_dump_json``.
There is deliberately no default for ``auth.mode``: a deployment must say ``disabled`` or give
real tokens, so no service can start open by accident and no default secret ships.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from skyloom_common.errors import ConfigError, FieldViolation

__all__ = [
    "AuthSettings",
    "BlobStoreSettings",
    "GrpcSettings",
    "LoggingSettings",
    "MetricsSettings",
    "NatsSettings",
    "PostgresSettings",
    "ServiceSettings",
    "TracingSettings",
    "env_prefix",
    "load_settings",
]

MIN_TOKEN_LENGTH = 32
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GrpcSettings(_Section):
    """The gRPC listener. ``port=0`` picks a free port (read it back from the server)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8089, ge=0, le=65535)
    max_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_concurrent_rpcs: int | None = Field(default=None, ge=1)
    drain_notice_seconds: float = Field(default=0.0, ge=0)
    """How long health reports NOT_SERVING while still accepting RPCs, so load balancers and
    Kubernetes readiness probes can steer traffic away before the listener closes."""
    drain_seconds: float = Field(default=10.0, ge=0)
    """How long in-flight RPCs may run after the listener closes; then they are cancelled."""


class MetricsSettings(_Section):
    """The Prometheus ``/metrics`` + ``/healthz`` HTTP listener."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=10254, ge=0, le=65535)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"


class TracingSettings(_Section):
    """``exporter`` chooses where spans go; code may also pass any ``SpanExporter`` directly."""

    exporter: Literal["none", "console"] = "none"
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)


class PostgresSettings(_Section):
    dsn: SecretStr | None = None
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _pool_bounds(self) -> Self:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("pool_min_size must not exceed pool_max_size")
        return self


class NatsSettings(_Section):
    url: str = "nats://127.0.0.1:4222"
    token: SecretStr | None = None
    credentials_file: Path | None = None


class BlobStoreSettings(_Section):
    """Where inputs/outputs live: ``file:///abs/path`` or ``s3://bucket/prefix``."""

    prefix: str | None = None
    endpoint_url: str | None = None

    @model_validator(mode="after")
    def _scheme(self) -> Self:
        if self.prefix is not None and not self.prefix.startswith(("file:///", "s3://")):
            raise ValueError("prefix must start with file:/// (absolute) or s3://")
        return self


class AuthSettings(_Section):
    """How callers are authenticated. ``mode`` has no default on purpose.

    ``static_token``: ``static_tokens`` maps a principal name to its bearer token (at least
    32 characters each, all distinct). Clients send ``<header>: Bearer <token>``.
    """

    mode: Literal["disabled", "static_token"]
    static_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    header: str = "authorization"

    @model_validator(mode="after")
    def _tokens(self) -> Self:
        if self.mode != "static_token":
            return self
        if not self.static_tokens:
            raise ValueError("static_token mode needs at least one entry in static_tokens")
        values = [t.get_secret_value() for t in self.static_tokens.values()]
        if any(len(v) < MIN_TOKEN_LENGTH for v in values):
            raise ValueError(f"every static token must be at least {MIN_TOKEN_LENGTH} characters")
        if len(set(values)) != len(values):
            raise ValueError("static tokens must be distinct")
        return self


class ServiceSettings(BaseSettings):
    """The sections every service has. Subclass it to add service-specific sections.

    Construct through :func:`load_settings`, which applies the service's env prefix and file.
    """

    model_config = SettingsConfigDict(extra="forbid", env_nested_delimiter="__", frozen=True)

    grpc: GrpcSettings = GrpcSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()
    tracing: TracingSettings = TracingSettings()
    postgres: PostgresSettings = PostgresSettings()
    nats: NatsSettings = NatsSettings()
    blob: BlobStoreSettings = BlobStoreSettings()
    auth: AuthSettings

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Constructor values carry the YAML file (see load_settings), so env must outrank them.
        return (env_settings, init_settings)


S = TypeVar("S", bound=ServiceSettings)


def env_prefix(service: str) -> str:
    """``"admin"`` → ``"SKYLOOM_ADMIN__"``."""
    if not _SERVICE_NAME.match(service):
        raise ValueError(f"service name must match {_SERVICE_NAME.pattern}: {service!r}")
    return f"SKYLOOM_{service.upper()}__"


def load_settings(
    settings_cls: type[S],
    service: str,
    *,
    config_file: Path | str | None = None,
) -> S:
    """Load ``settings_cls`` for ``service`` from env > YAML file > defaults.

    ``config_file`` wins over ``SKYLOOM_<SERVICE>__CONFIG_FILE``. Values are read from the
    process environment (tests set it with ``monkeypatch.setenv``).

    Raises :class:`ConfigError` whose violations carry the dotted settings path of each problem
    (never the rejected value, which may be a secret).
    """
    prefix = env_prefix(service)
    path = config_file if config_file is not None else os.environ.get(f"{prefix}CONFIG_FILE")
    file_values = _read_yaml(Path(path)) if path else {}
    # pydantic's synthesized __init__ signature knows neither `_env_prefix` nor untyped file data.
    construct: Callable[..., S] = settings_cls
    try:
        return construct(_env_prefix=prefix, **file_values)
    except ValidationError as exc:
        violations = [
            FieldViolation(".".join(str(p) for p in err["loc"]), err["msg"])
            for err in exc.errors(include_input=False, include_url=False)
        ]
        summary = "; ".join(f"{v.field or '<root>'}: {v.description}" for v in violations)
        raise ConfigError(f"invalid {service} settings: {summary}", violations=violations) from None


def _read_yaml(path: Path) -> dict[str, object]:
    try:
        loaded: object = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError.for_field("config_file", f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError.for_field("config_file", f"{path} is not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise ConfigError.for_field("config_file", f"{path} must hold a mapping at the top level")
    return loaded
