"""The seam to the type engine (``skyloom.types``).

Everything in the SDK converts values through :func:`engine`, so the local executor, the task
entrypoint and the compiler see the same literals. The import is deferred to the first call so
that ``import skyloom`` (and ``skyloom --help``) stays fast.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skyloom.types import TransferContext, TypeEngine


def engine() -> TypeEngine:
    """The process's type engine: ``skyloom.types.default_engine()``."""
    from skyloom.types import default_engine

    return default_engine()


@functools.lru_cache(maxsize=64)
def transfer_context(raw_dir: Path) -> TransferContext:
    """A TransferContext whose local raw-data store keeps files under ``raw_dir``.

    Cached: the store is stateless beyond its root, and building one costs a mkdir."""
    from skyloom.types import TransferContext
    from skyloom.types.local_store import LocalRawDataStore

    return TransferContext(store=LocalRawDataStore(raw_dir))


@functools.cache
def compile_context() -> TransferContext:
    """The context for constants bound at definition time (defaults, fixed inputs, literal
    arguments in a workflow body). A file constant is copied once into
    ``$SKYLOOM_COMPILE_RAW`` (default ``~/.skyloom/compile-raw``), content-addressed."""
    import os

    env = os.environ.get("SKYLOOM_COMPILE_RAW")
    return transfer_context(Path(env) if env else Path.home() / ".skyloom" / "compile-raw")
