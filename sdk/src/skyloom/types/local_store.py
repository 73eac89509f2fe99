"""A :class:`RawDataStore` on the local filesystem, for in-process runs and tests."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

from skyloom.types.content_hash import dir_sha256, file_sha256


def uri_to_path(uri: str) -> Path:
    """``file:///a/b`` → ``/a/b``; a bare path is returned as is. Other schemes are rejected."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(uri)
    raise ValueError(f"the local raw-data store cannot read {uri!r}: only file:// URIs")


class LocalRawDataStore:
    """Content-addressed copies under ``root``.

    Uploads land in ``<root>/cas/<sha256[:2]>/<sha256>/<name>`` (so identical content is stored
    once and re-uploading is free); downloads are fresh copies under ``<root>/downloads/`` so a
    task that modifies what it read never changes the stored value. ``root`` defaults to a new
    temporary directory that the caller owns (nothing deletes it automatically).
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or Path(tempfile.mkdtemp(prefix="skyloom-raw-"))).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def raw_data_prefix(self) -> str:
        return self.root.as_uri()

    def _cas_dir(self, digest: str) -> Path:
        return self.root / "cas" / digest[:2] / digest

    def upload_file(self, local_path: Path) -> str:
        dest = self._cas_dir(file_sha256(local_path)) / (local_path.name or "data")
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{uuid.uuid4().hex}.tmp")
            shutil.copyfile(local_path, tmp)
            tmp.replace(dest)
        return dest.as_uri()

    def upload_dir(self, local_path: Path) -> str:
        dest = self._cas_dir(dir_sha256(local_path)) / (local_path.name or "dir")
        if not dest.exists():
            tmp = dest.with_name(f".{uuid.uuid4().hex}.tmp")
            shutil.copytree(local_path, tmp)
            try:
                tmp.rename(dest)
            except OSError:  # a concurrent upload of the same content won the race
                shutil.rmtree(tmp, ignore_errors=True)
                if not dest.is_dir():
                    raise
        return dest.as_uri()

    def download_file(self, uri: str) -> Path:
        src = uri_to_path(uri)
        dest = self.new_local_path(src.name or "data")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return dest

    def download_dir(self, uri: str) -> Path:
        src = uri_to_path(uri)
        dest = self.new_local_path(src.name or "dir")
        shutil.copytree(src, dest)
        return dest

    def new_local_path(self, name: str) -> Path:
        folder = self.root / "local" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder / name


class RecordingStore(LocalRawDataStore):
    """A :class:`LocalRawDataStore` that records every transfer (``uploads``, ``downloads``),
    for tests that prove laziness or count transfers."""

    def __init__(self, root: Path | None = None) -> None:
        super().__init__(root)
        self.uploads: list[Path] = []
        self.downloads: list[str] = []

    def upload_file(self, local_path: Path) -> str:
        self.uploads.append(local_path)
        return super().upload_file(local_path)

    def upload_dir(self, local_path: Path) -> str:
        self.uploads.append(local_path)
        return super().upload_dir(local_path)

    def download_file(self, uri: str) -> Path:
        self.downloads.append(uri)
        return super().download_file(uri)

    def download_dir(self, uri: str) -> Path:
        self.downloads.append(uri)
        return super().download_dir(uri)
