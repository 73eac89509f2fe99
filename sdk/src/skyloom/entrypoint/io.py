"""Reading and writing the attempt's blobs by URI. Only ``file://`` (and plain paths) for now;
an ``s3://`` implementation registers under its scheme in :data:`STORES`."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse


class UriIO(Protocol):
    """The one seam between the entrypoint and a blob store."""

    def read_bytes(self, uri: str) -> bytes: ...

    def write_bytes(self, uri: str, data: bytes) -> None: ...

    def download(self, uri: str, dest: Path) -> Path: ...

    def upload(self, src: Path, uri: str) -> None: ...


def local_path(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path) if parsed.scheme else uri)
    raise ValueError(f"{uri!r} is not a local path")


class LocalIO:
    """``file://`` URIs and plain paths; writes are atomic (temp file + rename)."""

    def read_bytes(self, uri: str) -> bytes:
        return local_path(uri).read_bytes()

    def write_bytes(self, uri: str, data: bytes) -> None:
        path = local_path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def download(self, uri: str, dest: Path) -> Path:
        src = local_path(uri)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        elif src.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
        return dest

    def upload(self, src: Path, uri: str) -> None:
        dest = local_path(uri)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)


def _s3() -> UriIO:
    from skyloom.entrypoint.s3 import S3IO

    return S3IO()


STORES: dict[str, Callable[[], UriIO]] = {"": LocalIO, "file": LocalIO, "s3": _s3}


def io_for(uri: str) -> UriIO:
    scheme = urlparse(uri).scheme
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    factory = STORES.get(scheme)
    if factory is None:
        raise ValueError(f"no blob store for {scheme}:// URIs (known: file://, s3://)")
    return factory()


def join(prefix: str, name: str) -> str:
    return prefix.rstrip("/") + "/" + name


class UnsafeBundle(ValueError):
    """A code bundle holds a member that would land outside its directory, or a link."""


def extract_bundle(archive: Path, dest: Path) -> None:
    """Extract a .tar.gz code bundle, refusing absolute paths, ``..`` and links."""
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            name = m.name
            if name.startswith("/") or ".." in Path(name).parts or m.issym() or m.islnk():
                raise UnsafeBundle(f"code bundle member {name!r} is not allowed")
            if not (m.isfile() or m.isdir()):
                raise UnsafeBundle(f"code bundle member {name!r} is not a file or directory")
        tar.extractall(dest, members=members, filter="data")
