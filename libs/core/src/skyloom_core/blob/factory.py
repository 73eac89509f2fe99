"""Pick a store implementation from a URI's scheme."""

from __future__ import annotations

from skyloom_core.blob.settings import BlobSettings
from skyloom_core.blob.store import BlobStore
from skyloom_core.blob.uri import parse_uri

__all__ = ["store_for"]


def store_for(base_uri: str, settings: BlobSettings | None = None) -> BlobStore:
    """A store rooted at ``base_uri`` (``file:///dir`` or ``s3://bucket[/prefix]``).

    Raises :class:`~skyloom_core.blob.errors.InvalidKey` for a malformed URI or an unsupported
    scheme, and :class:`~skyloom_core.blob.errors.ConfigurationError` for ``s3://`` without the
    ``skyloom-core[s3]`` extra. aioboto3 is imported only here, only for ``s3://``.
    """
    settings = settings or BlobSettings()
    parsed = parse_uri(base_uri, "base_uri")
    if parsed.scheme == "s3":
        from skyloom_core.blob.s3 import S3Store

        return S3Store(base_uri, settings.s3)
    from skyloom_core.blob.local import FileStore

    return FileStore(base_uri, settings.file)
