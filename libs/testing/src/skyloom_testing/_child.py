"""Entry point of a child started by :func:`skyloom_testing.procs.spawn_python`.

``python -m skyloom_testing._child TARGET [ARGS...]`` where TARGET is ``module:function`` or
``/path/file.py:function``; runs ``function(*ARGS)``, awaiting it if it is a coroutine function.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import runpy
import sys
from collections.abc import Callable
from typing import Any


def resolve(target: str) -> Callable[..., Any]:
    """The function named by ``target``; a ``.py`` path is executed as a fresh module."""
    where, _, name = target.rpartition(":")
    if not where or not name:
        raise ValueError(f"target must be 'module:function' or 'file.py:function', got {target!r}")
    if where.endswith(".py"):
        namespace = runpy.run_path(where, run_name="__skyloom_child__")
    else:
        namespace = vars(importlib.import_module(where))
    func = namespace[name]
    if not callable(func):
        raise TypeError(f"{target} is not callable")
    return func  # type: ignore[no-any-return]


def main(argv: list[str]) -> int:
    func = resolve(argv[0])
    if inspect.iscoroutinefunction(func):
        asyncio.run(func(*argv[1:]))
    else:
        func(*argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
