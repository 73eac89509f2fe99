"""Map botocore/aiohttp failures to :mod:`skyloom_core.blob.errors`. Imports botocore lazily."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from skyloom_core.blob.errors import (
    AccessDenied,
    BlobError,
    ConfigurationError,
    NotFound,
    Unavailable,
)

__all__ = ["error_code", "http_status", "mapped_errors"]

_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchBucket", "NoSuchUpload"}
_DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "403",
    "AllAccessDisabled",
}
_TRANSIENT = {
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestTimeTooSkewed",
    "ConditionalRequestConflict",  # concurrent conditional writes on AWS: retry
    "OperationAborted",
}


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def http_status(exc: BaseException) -> int:
    """The HTTP status of a botocore ``ClientError`` (0 for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


@contextlib.contextmanager
def mapped_errors(uri: str) -> Iterator[None]:
    """Re-raise S3 client failures inside the block as :class:`BlobError` subclasses.

    Exceptions that do not come from the S3 client (programming errors, cancellation, our own
    :class:`BlobError`) pass through unchanged.
    """
    try:
        yield
    except BlobError:
        raise
    except Exception as exc:
        mapped = _map(exc, uri)
        if mapped is None:
            raise
        raise mapped from exc


def _map(exc: Exception, uri: str) -> BlobError | None:
    import aiohttp
    import botocore.exceptions as bx

    if isinstance(exc, bx.ClientError):
        code, status = error_code(exc), http_status(exc)
        message = f"S3 {code or status}: {exc}"
        if code in _NOT_FOUND or status == 404:
            return NotFound(message, uri=uri)
        if code in _DENIED or status == 403:
            return AccessDenied(message, uri=uri)
        if code in _TRANSIENT or status >= 500 or status in (408, 429):
            return Unavailable(message, uri=uri)
        return BlobError(message, uri=uri)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return ConfigurationError(f"S3 credentials: {exc}", uri=uri)
    if isinstance(
        exc,
        bx.EndpointConnectionError
        | bx.ConnectionError
        | bx.ConnectTimeoutError
        | bx.ReadTimeoutError
        | bx.ResponseStreamingError
        | bx.IncompleteReadError
        | aiohttp.ClientError
        | asyncio.TimeoutError,
    ):
        return Unavailable(f"S3 unreachable: {exc!r}", uri=uri)
    if isinstance(exc, bx.BotoCoreError):
        return BlobError(f"S3 client: {exc}", uri=uri)
    return None
