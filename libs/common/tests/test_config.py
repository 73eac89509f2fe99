"""Settings: env beats file beats defaults; bad config is refused with settings paths."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from skyloom_common.config import (
    GrpcSettings,
    ServiceSettings,
    env_prefix,
    load_settings,
)
from skyloom_common.errors import ConfigError

TOKEN = "0123456789abcdef0123456789abcdef"


class CatalogSettings(ServiceSettings):
    """A service adding its own section, as each service will."""

    reservation_ttl_seconds: float = 30.0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("SKYLOOM_CATALOG__"):
            monkeypatch.delenv(key)


def test_env_beats_file_beats_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(
        tmp_path,
        """
grpc:
  host: 0.0.0.0
  port: 7000
metrics:
  port: 9100
reservation_ttl_seconds: 5
auth:
  mode: disabled
""",
    )
    monkeypatch.setenv("SKYLOOM_CATALOG__GRPC__PORT", "0")
    monkeypatch.setenv("SKYLOOM_CATALOG__RESERVATION_TTL_SECONDS", "7.5")

    settings = load_settings(CatalogSettings, "catalog", config_file=path)

    assert settings.grpc.port == 0  # env over file (port 0 is allowed)
    assert settings.grpc.host == "0.0.0.0"  # file over default, merged with the env value
    assert settings.metrics.port == 9100  # file
    assert settings.reservation_ttl_seconds == 7.5  # env, a service-specific field
    assert settings.grpc.max_message_bytes == GrpcSettings().max_message_bytes  # default
    assert settings.logging.format == "json"  # default


def test_config_file_location_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "auth: {mode: disabled}\nlogging: {format: text}\n")
    monkeypatch.setenv("SKYLOOM_CATALOG__CONFIG_FILE", str(path))
    assert load_settings(CatalogSettings, "catalog").logging.format == "text"


def test_env_only_with_json_for_complex_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYLOOM_CATALOG__AUTH__MODE", "static_token")
    monkeypatch.setenv("SKYLOOM_CATALOG__AUTH__STATIC_TOKENS", json.dumps({"propeller": TOKEN}))
    settings = load_settings(CatalogSettings, "catalog")
    assert settings.auth.static_tokens["propeller"].get_secret_value() == TOKEN


def test_auth_mode_has_no_default() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(CatalogSettings, "catalog")
    assert info.value.field_paths == ("auth",)


@pytest.mark.parametrize(
    ("tokens", "problem"),
    [
        ({}, "at least one"),
        ({"p": "short"}, "at least 32"),
        ({"a": TOKEN, "b": TOKEN}, "distinct"),
    ],
)
def test_static_token_mode_refuses_weak_or_missing_tokens(
    monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str], problem: str
) -> None:
    monkeypatch.setenv("SKYLOOM_CATALOG__AUTH__MODE", "static_token")
    monkeypatch.setenv("SKYLOOM_CATALOG__AUTH__STATIC_TOKENS", json.dumps(tokens))
    with pytest.raises(ConfigError, match=problem) as info:
        load_settings(CatalogSettings, "catalog")
    assert "short" not in str(info.value)  # the rejected value (maybe a secret) is not echoed


def test_unknown_and_invalid_keys_are_reported_with_their_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, "auth: {mode: disabled}\ngrpc: {prot: 1}\nmetrics: {port: 70000}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(CatalogSettings, "catalog", config_file=path)
    assert set(info.value.field_paths) == {"grpc.prot", "metrics.port"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [("grpc: [1, 2", "not valid YAML"), ("- a\n- b\n", "mapping at the top level")],
)
def test_broken_files_are_config_errors(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_settings(CatalogSettings, "catalog", config_file=_write(tmp_path, text))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_settings(CatalogSettings, "catalog", config_file=tmp_path / "nope.yaml")
    assert info.value.field_paths == ("config_file",)


def test_secrets_never_print(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "canary-" + "9" * 30
    monkeypatch.setenv("SKYLOOM_CATALOG__AUTH__MODE", "static_token")
    monkeypatch.setenv("SKYLOOM_CATALOG__AUTH__STATIC_TOKENS", json.dumps({"p": canary}))
    monkeypatch.setenv("SKYLOOM_CATALOG__POSTGRES__DSN", f"postgresql://u:{canary}@db/x")
    settings = load_settings(CatalogSettings, "catalog")
    with caplog.at_level(logging.INFO):
        logging.getLogger("skyloom_test").info("settings: %s / %r", settings, settings)
    assert settings.postgres.dsn is not None
    assert canary in settings.postgres.dsn.get_secret_value()
    for rendering in (caplog.text, repr(settings), str(settings), settings.model_dump_json()):
        assert canary not in rendering


def test_blob_prefix_must_be_absolute_file_or_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYLOOM_CATALOG__AUTH__MODE", "disabled")
    monkeypatch.setenv("SKYLOOM_CATALOG__BLOB__PREFIX", "relative/path")
    with pytest.raises(ConfigError) as info:
        load_settings(CatalogSettings, "catalog")
    assert info.value.field_paths == ("blob",)
    monkeypatch.setenv("SKYLOOM_CATALOG__BLOB__PREFIX", "s3://bucket/prefix")
    assert load_settings(CatalogSettings, "catalog").blob.prefix == "s3://bucket/prefix"


def test_env_prefix_rejects_odd_service_names() -> None:
    assert env_prefix("datacatalog") == "SKYLOOM_DATACATALOG__"
    with pytest.raises(ValueError, match="service name"):
        env_prefix("data-catalog")
