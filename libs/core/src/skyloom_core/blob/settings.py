"""Settings for the blob stores: plain frozen dataclasses, no I/O, no environment lookups.

Secrets are excluded from ``repr`` so settings can be logged. Where settings come from (config
files, environment) is the caller's business (``skyloom_common`` for services, the CLI config
for the SDK).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skyloom_core.blob.errors import ConfigurationError
from skyloom_core.blob.signing import MIN_SECRET_BYTES

__all__ = ["MIN_PART_SIZE", "BlobSettings", "FileSettings", "S3Settings"]

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3 and SeaweedFS refuse smaller non-final parts (EntityTooSmall)
MAX_PARTS = 10_000


@dataclass(frozen=True)
class S3Settings:
    """How to reach S3. ``None`` credentials mean botocore's default chain (env, profile, IMDS).

    Files of ``multipart_threshold`` bytes or more are uploaded in parts of
    ``multipart_part_size`` (at least 5 MiB); smaller ones in one PutObject.
    ``addressing_style`` ``None`` means path-style when ``endpoint_url`` is set (S3-compatible
    servers such as SeaweedFS) and botocore's choice otherwise.
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    addressing_style: str | None = None
    multipart_threshold: int = 64 * MIB
    multipart_part_size: int = 16 * MIB
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if self.multipart_part_size < MIN_PART_SIZE:
            raise ConfigurationError(f"multipart_part_size must be at least {MIN_PART_SIZE} bytes")
        if self.multipart_threshold < 1:
            raise ConfigurationError("multipart_threshold must be positive")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ConfigurationError("set both access_key_id and secret_access_key, or neither")
        if self.addressing_style not in (None, "path", "virtual", "auto"):
            raise ConfigurationError(f"unknown addressing_style {self.addressing_style!r}")


@dataclass(frozen=True)
class FileSettings:
    """The local store. Signed URLs need both ``signing_secret`` (at least 32 random bytes,
    shared with the data proxy) and ``signed_url_base`` (the proxy's URL); without them
    ``signed_*_url`` raises :class:`ConfigurationError`. ``fsync=False`` trades durability on
    power loss for speed (atomic visibility is kept either way)."""

    signing_secret: bytes | None = field(default=None, repr=False)
    signed_url_base: str | None = None
    fsync: bool = True

    def __post_init__(self) -> None:
        if self.signing_secret is not None and len(self.signing_secret) < MIN_SECRET_BYTES:
            raise ConfigurationError(f"signing_secret must be at least {MIN_SECRET_BYTES} bytes")


@dataclass(frozen=True)
class BlobSettings:
    """Settings for every scheme; :func:`~skyloom_core.blob.store_for` picks the relevant part."""

    s3: S3Settings = field(default_factory=S3Settings)
    file: FileSettings = field(default_factory=FileSettings)
