"""Helpers shared by the SDK tests."""

from __future__ import annotations

import linecache
import os

from skyloom import CompileError


def source_line(err: CompileError) -> str:
    """The author's source line the error points at (``file.py:LINE`` in its message)."""
    assert err.location, f"no location in {err}"
    filename, _, line = err.location.rpartition(":")
    assert filename == "test_compile_errors.py", err.location
    path = os.path.join(os.path.dirname(__file__), filename)
    return linecache.getline(path, int(line))
