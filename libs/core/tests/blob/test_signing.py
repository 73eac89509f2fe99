"""HMAC-signed URLs for file://: what the sandbox's data proxy accepts and refuses."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from skyloom_core.blob import (
    BlobSettings,
    ConfigurationError,
    FileStore,
    SignatureRejected,
    content_md5,
    sign_url,
    verify,
)

SECRET = secrets.token_bytes(32)
BASE = "http://127.0.0.1:8089/blob"
NOW = 1_900_000_000


def _signed_get(key: str = "p/d/e/n0/0/outputs.pb", expires: int = NOW + 60) -> str:
    return sign_url(BASE, SECRET, method="GET", key=key, expires=expires)


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, value if k == name else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_valid_get_url_grants_exactly_what_was_signed() -> None:
    grant = verify(_signed_get(), SECRET, now=NOW)

    assert (grant.method, grant.key, grant.expires, grant.content_md5) == (
        "GET",
        "p/d/e/n0/0/outputs.pb",
        NOW + 60,
        None,
    )


def test_key_with_reserved_url_characters_round_trips() -> None:
    key = "raw/a b&c=d/ünï?#.txt"
    assert verify(_signed_get(key), SECRET, now=NOW).key == key


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("key", "p/d/e/n0/0/inputs.pb"),  # another object
        ("method", "PUT"),  # another verb
        ("expires", str(NOW + 3600)),  # a longer life
        ("sig", "0" * 64),  # a forged signature
    ],
)
def test_tampered_url_is_refused(name: str, value: str) -> None:
    tampered = _with_param(_signed_get(), name, value)

    with pytest.raises(SignatureRejected) as info:
        verify(tampered, SECRET, now=NOW)
    assert info.value.reason in ("bad-signature", "malformed")


def test_other_secret_is_refused() -> None:
    with pytest.raises(SignatureRejected) as info:
        verify(_signed_get(), secrets.token_bytes(32), now=NOW)
    assert info.value.reason == "bad-signature"


def test_expired_url_is_refused_from_the_expiry_second_on() -> None:
    url = _signed_get(expires=NOW + 60)
    assert verify(url, SECRET, now=NOW + 59.999).key

    for now in (NOW + 60, NOW + 10_000):
        with pytest.raises(SignatureRejected) as info:
            verify(url, SECRET, now=now)
        assert info.value.reason == "expired"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda u: u + "&sig=" + "0" * 64,  # repeated parameter
        lambda u: u + "&extra=1",  # unknown parameter
        lambda u: u.split("?")[0],  # no query at all
        lambda u: _with_param(u, "expires", "soon"),
        lambda u: _with_param(u, "v", "2"),
        lambda u: _with_param(u, "key", "../../etc/passwd"),
        lambda u: _with_param(u, "key", "/etc/passwd"),
        lambda u: _with_param(u, "key", "a/../../b"),
    ],
)
def test_malformed_url_is_refused(mutate: Callable[[str], str]) -> None:
    with pytest.raises(SignatureRejected) as info:
        verify(mutate(_signed_get()), SECRET, now=NOW)
    assert info.value.reason == "malformed"


def test_signer_refuses_traversal_keys() -> None:
    from skyloom_core.blob import InvalidKey

    with pytest.raises(InvalidKey):
        sign_url(BASE, SECRET, method="GET", key="../x", expires=NOW)


def test_put_grant_binds_the_content_md5() -> None:
    body = b"the code bundle"
    url = sign_url(
        BASE,
        SECRET,
        method="PUT",
        key="u/bundle.tgz",
        expires=NOW + 60,
        content_md5=content_md5(body),
    )
    grant = verify(url, SECRET, now=NOW)

    assert grant.method == "PUT"
    grant.check_content_md5(content_md5(body))
    with pytest.raises(SignatureRejected) as info:
        grant.check_content_md5(content_md5(b"something else"))
    assert info.value.reason == "content-mismatch"
    with pytest.raises(SignatureRejected):
        verify(_with_param(url, "md5", content_md5(b"something else")), SECRET, now=NOW)


def test_put_needs_an_md5_and_get_must_not_have_one() -> None:
    with pytest.raises(ValueError, match="must carry"):
        sign_url(BASE, SECRET, method="PUT", key="k", expires=NOW)
    with pytest.raises(ValueError, match="GET grant"):
        sign_url(BASE, SECRET, method="GET", key="k", expires=NOW, content_md5=content_md5(b""))
    with pytest.raises(ValueError, match="16 bytes"):
        sign_url(BASE, SECRET, method="PUT", key="k", expires=NOW, content_md5="bm90IG1kNQ==")


def test_weak_or_missing_secret_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        sign_url(BASE, b"short", method="GET", key="k", expires=NOW)
    with pytest.raises(ConfigurationError):
        verify(_signed_get(), b"", now=NOW)


async def test_file_store_urls_verify_with_the_shared_secret(
    tmp_path: Path, file_settings: BlobSettings
) -> None:
    secret = file_settings.file.signing_secret
    assert secret is not None
    store = FileStore(f"file://{tmp_path}", file_settings.file)

    signed = await store.signed_get_url("a/b.txt", expires_in=120)
    grant = verify(signed.url, secret, now=time.time())

    assert signed.url.startswith("http://127.0.0.1:9/blob?")
    assert (grant.method, grant.key) == ("GET", "a/b.txt")
    assert 110 <= signed.expires_at.timestamp() - time.time() <= 121
    with pytest.raises(SignatureRejected):
        verify(signed.url, secret, now=time.time() + 121)


async def test_file_store_without_signing_settings_cannot_sign(tmp_path: Path) -> None:
    store = FileStore(f"file://{tmp_path}")
    with pytest.raises(ConfigurationError, match="signing_secret"):
        await store.signed_get_url("a")
