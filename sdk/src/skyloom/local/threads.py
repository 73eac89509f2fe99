"""The worker threads that run sync task bodies and map lanes."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

POOL_SIZE = 32
"""Most sync task bodies (or map lanes) running at once in one run."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def process_pool() -> ThreadPoolExecutor:
    """The process's worker threads for sync task bodies, started on first use and kept:
    starting threads per run was a large part of a short run's cost."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="skyloom-task")
        return _pool


def _forget_pool() -> None:
    global _pool
    _pool = None  # a forked child has none of the parent's threads


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
