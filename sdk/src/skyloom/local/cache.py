"""The local cache: one file per key (libs/core's cache key), written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from skyloom_core.cache_key import cache_key as core_cache_key
from skyloom_idl.core import literals_pb2, tasks_pb2


def default_cache_dir() -> Path:
    env = os.environ.get("SKYLOOM_LOCAL_CACHE")
    return Path(env) if env else Path.home() / ".skyloom" / "local-cache"


def cache_key(
    template: tasks_pb2.TaskTemplate,
    inputs: literals_pb2.LiteralMap,
    cache: tasks_pb2.CacheConfig | None = None,
) -> str:
    """A file-name-safe digest of the datacatalog key (project, domain, dataset, version, tag)."""
    key = core_cache_key(template, inputs, cache=cache)
    parts = [key.project, key.domain, key.name, key.version, key.tag]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class LocalCache:
    """Outputs by cache key under ``root``; safe for concurrent writers (atomic replace)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_cache_dir()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pb"

    def get(self, key: str) -> literals_pb2.LiteralMap | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        out = literals_pb2.LiteralMap()
        out.ParseFromString(data)
        return out

    def put(self, key: str, outputs: literals_pb2.LiteralMap) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(outputs.SerializeToString(deterministic=True))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> int:
        """Remove every entry; returns how many."""
        n = 0
        for p in self.root.glob("*/*.pb"):
            p.unlink()
            n += 1
        return n
