"""Helpers shared by the SDK tests."""

from __future__ import annotations

import linecache
import os
import threading
from types import TracebackType

from skyloom import CompileError


def source_line(err: CompileError) -> str:
    """The author's source line the error points at (``file.py:LINE`` in its message)."""
    assert err.location, f"no location in {err}"
    filename, _, line = err.location.rpartition(":")
    assert filename == "test_compile_errors.py", err.location
    path = os.path.join(os.path.dirname(__file__), filename)
    return linecache.getline(path, int(line))


class ConcurrencyMeter:
    """Counts the threads inside ``with meter:`` at once; ``peak`` is the most seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self._running += 1
            self.peak = max(self.peak, self._running)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self._running -= 1
