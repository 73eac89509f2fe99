"""Blob store: protobuf literals and raw data in ``file://`` or ``s3://`` storage.

Start with :func:`store_for`; the contract is :class:`BlobStore`; keys come from
:class:`AttemptPath` or pass :func:`validate_key`; errors derive from :class:`BlobError`.
"""

from skyloom_core.blob.errors import (
    AccessDenied,
    AlreadyExists,
    BlobError,
    ConfigurationError,
    InvalidKey,
    NotFound,
    SignatureRejected,
    Unavailable,
)
from skyloom_core.blob.factory import store_for
from skyloom_core.blob.keys import (
    DECK_FILE,
    ERROR_FILE,
    INPUTS_FILE,
    OUTPUTS_FILE,
    AttemptPath,
    join_key,
    validate_id,
    validate_key,
    validate_prefix,
)
from skyloom_core.blob.local import FileStore
from skyloom_core.blob.s3 import S3Store
from skyloom_core.blob.settings import BlobSettings, FileSettings, S3Settings
from skyloom_core.blob.signing import SignedGrant, SignedURL, content_md5, sign_url, verify
from skyloom_core.blob.store import BlobInfo, BlobStore
from skyloom_core.blob.uri import ParsedURI, join_uri, parse_uri

__all__ = [
    "DECK_FILE",
    "ERROR_FILE",
    "INPUTS_FILE",
    "OUTPUTS_FILE",
    "AccessDenied",
    "AlreadyExists",
    "AttemptPath",
    "BlobError",
    "BlobInfo",
    "BlobSettings",
    "BlobStore",
    "ConfigurationError",
    "FileSettings",
    "FileStore",
    "InvalidKey",
    "NotFound",
    "ParsedURI",
    "S3Settings",
    "S3Store",
    "SignatureRejected",
    "SignedGrant",
    "SignedURL",
    "Unavailable",
    "content_md5",
    "join_key",
    "join_uri",
    "parse_uri",
    "sign_url",
    "store_for",
    "validate_id",
    "validate_key",
    "validate_prefix",
    "verify",
]
