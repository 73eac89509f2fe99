"""Local-file plumbing shared by the stores: atomic writes and safe directory trees. Blocking;
callers run these in a worker thread.

:class:`AtomicFile` writes to a temporary file in the destination's directory (named with
:data:`~skyloom_core.blob.keys.RESERVED_PREFIX`, so stores never list or serve it), fsyncs it and
then renames it over the destination (or hard-links it, to never overwrite), and fsyncs the
directory. A crash at any point leaves either the old file or the new one, plus at worst an
orphaned temporary file that no reader sees.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from skyloom_core.blob.errors import InvalidKey
from skyloom_core.blob.keys import RESERVED_PREFIX, join_key, validate_key

__all__ = ["CHUNK", "AtomicFile", "local_target", "read_chunks", "walk_files"]

CHUNK = 1024 * 1024


class AtomicFile:
    """A file that appears at ``path`` complete or not at all. ``fsync`` makes it durable too.

    Use: ``open()``, ``write()`` any number of times, then ``commit()`` or ``abort()``.
    """

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self.size = 0
        self._tmp: Path | None = None
        self._file: BinaryIO | None = None

    def open(self) -> None:
        _makedirs(self.path.parent, fsync=self.fsync)
        tmp = self.path.parent / f"{RESERVED_PREFIX}{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        self._tmp = tmp
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        assert self._file is not None, "open() first"
        self._file.write(data)
        self.size += len(data)

    def commit(self, *, overwrite: bool = True) -> bool:
        """Make the file visible. With ``overwrite=False`` an existing file is left alone and
        ``False`` is returned (the link is atomic: two racing writers cannot both win)."""
        assert self._file is not None, "open() first"
        assert self._tmp is not None, "open() first"
        try:
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
            self._file.close()
            if overwrite:
                os.replace(self._tmp, self.path)
                self._tmp = None
            else:
                try:
                    os.link(self._tmp, self.path)
                except FileExistsError:
                    return False
            if self.fsync:
                _fsync_dir(self.path.parent)
            return True
        finally:
            self.abort()

    def abort(self) -> None:
        """Discard the temporary file. Idempotent; a no-op after a successful commit."""
        if self._file is not None and not self._file.closed:
            with contextlib.suppress(OSError):  # the flush on close may fail again (disk full)
                self._file.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def read_chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
    """Read a file in chunks of at most ``size`` bytes; unbuffered, so a pipe yields what it has."""
    with open(path, "rb", buffering=0) as raw:
        while chunk := raw.read(size):
            yield chunk


def walk_files(root: Path, prefix: str) -> list[tuple[str, Path]]:
    """``(key, path)`` for every regular file under ``root``, keys ``<prefix>/<relative path>``.

    Symbolic links (to files or directories) are refused with :class:`InvalidKey`, as is any
    relative path that is not a valid key; nothing outside ``root`` is ever read.
    """
    if not root.is_dir() or root.is_symlink():
        raise InvalidKey("path", "is not a directory", value=str(root))
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames + filenames):
            full = here / name
            rel = full.relative_to(root).as_posix()
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                raise InvalidKey(f"path:{rel}", "is a symbolic link; links are not uploaded")
            if stat.S_ISREG(mode):
                validate_key(rel, f"path:{rel}")
                found.append((join_key(prefix, rel), full))
    found.sort(key=lambda item: item[0].encode())
    return found


def local_target(root: Path, rel_key: str) -> Path:
    """The local path for ``rel_key`` under ``root``, refusing anything that would leave it."""
    validate_key(rel_key, "key")
    target = root.joinpath(*rel_key.split("/"))
    resolved_root = root.resolve()
    # A key is already free of '..'; this also catches a symbolic link inside the destination.
    if not target.resolve().is_relative_to(resolved_root):
        raise InvalidKey("key", "leads outside the destination directory", value=rel_key)
    return target


def _makedirs(path: Path, *, fsync: bool) -> None:
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir()
        if fsync:
            _fsync_dir(directory.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
