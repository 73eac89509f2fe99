"""Content hashes for raw data, set in ``Literal.hash`` so cache keys follow content, not URIs."""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def dir_sha256(path: Path) -> str:
    """Hex SHA-256 over a directory tree: sorted relative POSIX paths and their file hashes.

    Empty directories and file metadata (times, modes) do not count.
    """
    digest = hashlib.sha256()
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = child.relative_to(path).as_posix()
        digest.update(f"{rel}\0{file_sha256(child)}\n".encode())
    return digest.hexdigest()


def bytes_sha256(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()
