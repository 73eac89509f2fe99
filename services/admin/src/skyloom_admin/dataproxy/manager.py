"""CreateUploadLocation's rules (no grpc here).

The key is ``<project>/<domain>/<base32(md5), lower case, unpadded>/<filename>``, so the same
content always gets the same location. The signed PUT URL signs ``Content-MD5``: the store
refuses any other bytes. An object already at the key with different content is never
overwritten: ``ALREADY_EXISTS``. (Identical content gets a URL again; re-uploading it is
harmless.)
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from skyloom_admin.projects.manager import ProjectManager
from skyloom_admin.validation import violations_of
from skyloom_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    Unavailable,
)
from skyloom_core import blob
from skyloom_core.names import validate_name

__all__ = ["UploadLocation", "UploadManager", "upload_key"]

_HEX_MD5 = re.compile(r"[0-9a-f]{32}\Z")


@dataclass(frozen=True)
class UploadLocation:
    signed_url: str
    native_url: str
    expires_at: datetime
    headers: dict[str, str] = field(default_factory=dict)


def upload_key(project: str, domain: str, md5: bytes, filename: str) -> str:
    digest = base64.b32encode(md5).decode().rstrip("=").lower()
    return f"{project}/{domain}/{digest}/{filename}"


class UploadManager:
    def __init__(
        self,
        store: blob.BlobStore | None,
        projects: ProjectManager,
        *,
        default_expiry: int,
        max_expiry: int,
    ) -> None:
        self._store = store
        self._projects = projects
        self._default = default_expiry
        self._max = max_expiry

    async def create(
        self, project: str, domain: str, filename: str, md5: bytes, expires_in: float
    ) -> UploadLocation:
        violations: list[FieldViolation] = []
        try:
            self._projects.check_scope(
                project, domain, project_path="project", domain_path="domain"
            )
        except InvalidArgument as exc:
            violations += exc.violations
        violations += violations_of(validate_name(filename, "filename"))
        if len(md5) != 16:
            violations.append(
                FieldViolation(
                    "content_md5", f"must be the 16-byte MD5 digest, got {len(md5)} bytes"
                )
            )
        if expires_in < 0:
            violations.append(FieldViolation("expires_in", "must not be negative"))
        if violations:
            raise InvalidArgument("invalid upload location request", violations=violations)
        await self._projects.require_active(
            project, domain, project_path="project", domain_path="domain"
        )
        if self._store is None:
            raise FailedPrecondition(
                "no blob store is configured for uploads", reason="NO_BLOB_STORE"
            )
        key = upload_key(project, domain, md5, filename)
        expiry = min(int(expires_in) or self._default, self._max)
        try:
            await self._refuse_other_content(key, md5)
            signed = await self._store.signed_put_url(
                key, content_md5=base64.b64encode(md5).decode(), expires_in=expiry
            )
        except blob.Unavailable as exc:
            raise Unavailable(
                f"blob store unavailable: {exc}", reason="BLOB_STORE_UNAVAILABLE"
            ) from exc
        except blob.ConfigurationError as exc:
            # e.g. a file:// store without the data proxy's signing secret
            raise FailedPrecondition(
                f"upload URLs are not configured: {exc}", reason="UPLOADS_NOT_CONFIGURED"
            ) from exc
        return UploadLocation(
            signed_url=signed.url,
            native_url=self._store.uri(key),
            expires_at=signed.expires_at,
            headers=dict(signed.headers),
        )

    async def _refuse_other_content(self, key: str, md5: bytes) -> None:
        assert self._store is not None
        try:
            info = await self._store.head(key)
        except blob.NotFound:
            return
        if _HEX_MD5.match(info.etag):
            same = info.etag == md5.hex()
        else:
            data = await self._store.get_bytes(key)
            same = hashlib.md5(data, usedforsecurity=False).digest() == md5
        if not same:
            raise AlreadyExists(
                f"{self._store.uri(key)} already holds different content",
                reason="DIFFERENT_CONTENT",
            )
