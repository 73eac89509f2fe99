"""HMAC-signed URLs for the ``file://`` store, verified by the sandbox's data proxy.

A ``file://`` store has no server to presign for it, so the sandbox runs a small HTTP data proxy
over the store's directory; the store hands out URLs to that proxy carrying a grant::

    <base_url>?v=1&method=GET&key=<key>&expires=<unix seconds>&sig=<hex>
    <base_url>?v=1&method=PUT&key=<key>&expires=<unix seconds>&md5=<base64 MD5>&sig=<hex>

``sig`` is HMAC-SHA256 under a secret shared by the store and the proxy (at least 32 bytes;
there is no default) over ``skyloom-blob-v1\\n<method>\\n<key>\\n<expires>\\n<md5>``. Keys cannot
contain newlines, so the message is unambiguous. Changing any signed field, adding or repeating
a parameter, or using the URL at or after ``expires`` makes :func:`verify` refuse it.

The proxy's obligations after ``grant = verify(url, secret, now)``: serve only ``grant.method``;
for a PUT, compute the body's MD5 and call :meth:`SignedGrant.check_content_md5` before making
the object visible (as S3 does with ``Content-MD5``); map ``grant.key`` through the store, which
re-validates it. :func:`verify` already re-validates the key, so ``..`` or an absolute path
never comes out of it even with a valid signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, quote, urlsplit

from skyloom_core.blob.errors import ConfigurationError, InvalidKey, SignatureRejected
from skyloom_core.blob.keys import validate_key

__all__ = [
    "MAX_EXPIRES_IN",
    "MIN_SECRET_BYTES",
    "SignedGrant",
    "SignedURL",
    "check_expires_in",
    "content_md5",
    "sign_url",
    "verify",
]

MIN_SECRET_BYTES = 32
MAX_EXPIRES_IN = 7 * 24 * 3600  # S3's presigning limit; the file:// scheme keeps the same one.
_METHODS = ("GET", "PUT")
_PARAMS = {"v", "method", "key", "expires", "md5", "sig"}


@dataclass(frozen=True)
class SignedURL:
    """A URL that grants one method on one object until ``expires_at``.

    ``headers`` must be sent with the request: a PUT carries ``Content-MD5`` and the server
    refuses a body whose MD5 differs.
    """

    url: str
    method: str
    expires_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SignedGrant:
    """What a verified URL allows: ``method`` on ``key``, until ``expires`` (unix seconds)."""

    method: str
    key: str
    expires: int
    content_md5: str | None

    def check_content_md5(self, received_md5: str) -> None:
        """Raise ``SignatureRejected`` if an uploaded body's base64 MD5 is not the signed one."""
        if self.content_md5 is None or not hmac.compare_digest(self.content_md5, received_md5):
            raise SignatureRejected("content-mismatch", "body MD5 differs from the signed one")


def content_md5(data: bytes) -> str:
    """The base64 MD5 of ``data``, as sent in a ``Content-MD5`` header."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


def check_expires_in(expires_in: int) -> int:
    """Return ``expires_in`` if it is 1..:data:`MAX_EXPIRES_IN` seconds, else raise ValueError."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise TypeError("expires_in must be an int number of seconds")
    if not 1 <= expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be between 1 and {MAX_EXPIRES_IN} seconds")
    return expires_in


def sign_url(
    base_url: str,
    secret: bytes,
    *,
    method: str,
    key: str,
    expires: int,
    content_md5: str | None = None,
) -> str:
    """Build a signed URL for ``method`` on ``key`` valid until ``expires`` (unix seconds).

    A PUT must carry ``content_md5`` (base64 of 16 bytes); a GET must not.
    """
    _check_secret(secret)
    problem = _grant_shape_error(method, content_md5)
    if problem:
        raise ValueError(problem)
    validate_key(key)
    params = [("v", "1"), ("method", method), ("key", key), ("expires", str(expires))]
    if content_md5 is not None:
        params.append(("md5", content_md5))
    params.append(("sig", _signature(secret, method, key, expires, content_md5)))
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}{query}"


def verify(url: str, secret: bytes, now: float) -> SignedGrant:
    """Check a signed URL at time ``now`` (unix seconds) and return what it grants.

    Raises :class:`SignatureRejected` with ``reason`` ``malformed`` (missing, repeated or
    unknown parameters, bad values, an invalid key), ``bad-signature`` or ``expired``.
    """
    _check_secret(secret)
    try:
        query = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise SignatureRejected("malformed", str(exc)) from None
    unknown = set(query) - _PARAMS
    if unknown:
        raise SignatureRejected("malformed", f"unknown parameters {sorted(unknown)}")
    if any(len(values) != 1 for values in query.values()):
        raise SignatureRejected("malformed", "a parameter is repeated")
    values = {name: vals[0] for name, vals in query.items()}
    for required in ("v", "method", "key", "expires", "sig"):
        if required not in values:
            raise SignatureRejected("malformed", f"missing {required!r}")
    if values["v"] != "1":
        raise SignatureRejected("malformed", f"unknown version {values['v']!r}")
    method, key, md5 = values["method"], values["key"], values.get("md5")
    problem = _grant_shape_error(method, md5)
    if problem:
        raise SignatureRejected("malformed", problem)
    if not values["expires"].isdigit() or len(values["expires"]) > 12:
        raise SignatureRejected("malformed", "expires is not a unix timestamp")
    expires = int(values["expires"])
    try:
        validate_key(key)
    except InvalidKey as exc:
        raise SignatureRejected("malformed", exc.message) from None
    expected = _signature(secret, method, key, expires, md5)
    if not hmac.compare_digest(expected, values["sig"]):
        raise SignatureRejected("bad-signature")
    if now >= expires:
        raise SignatureRejected("expired", f"expired at {expires}")
    return SignedGrant(method=method, key=key, expires=expires, content_md5=md5)


def _signature(secret: bytes, method: str, key: str, expires: int, md5: str | None) -> str:
    message = f"skyloom-blob-v1\n{method}\n{key}\n{expires}\n{md5 or ''}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"the URL-signing secret must be at least {MIN_SECRET_BYTES} bytes"
        )


def _grant_shape_error(method: str, md5: str | None) -> str | None:
    if method not in _METHODS:
        return f"method must be one of {_METHODS}, not {method!r}"
    if method == "GET":
        return None if md5 is None else "a GET grant carries no content MD5"
    if md5 is None:
        return "a PUT grant must carry the content MD5"
    try:
        raw = base64.b64decode(md5, validate=True)
    except binascii.Error:
        raw = b""
    return None if len(raw) == 16 else "content MD5 must be the base64 of 16 bytes"
