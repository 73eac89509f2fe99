"""The transfer seam: where raw data (files, directories, tables) goes when values become literals.

Transformers are synchronous: the local executor runs tasks in threads or processes, and
``skyloom-execute`` runs one task per process. An async blob store adapts to this seam by
running its coroutines on its own loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from skyloom.types.local_store import LocalRawDataStore


@runtime_checkable
class RawDataStore(Protocol):
    """Stores raw data by URI.

    Contract:
    - ``upload_*`` returns a URI under :attr:`raw_data_prefix` from which ``download_*`` returns
      the same content; uploading the same content twice may return the same URI.
    - ``download_*`` returns a local path the caller may read and modify; it never changes the
      stored copy. It accepts any URI the store understands (at least the ones it returned).
    - ``new_local_path`` returns a fresh, not yet existing local path for a writer (e.g. a
      Parquet encoder) to create before uploading.
    """

    @property
    def raw_data_prefix(self) -> str: ...

    def upload_file(self, local_path: Path) -> str: ...

    def upload_dir(self, local_path: Path) -> str: ...

    def download_file(self, uri: str) -> Path: ...

    def download_dir(self, uri: str) -> Path: ...

    def new_local_path(self, name: str) -> Path: ...


@dataclass(frozen=True)
class TransferContext:
    """What transformers need besides the value: the raw-data store.

    One context per task attempt (or per local run). Fields may be added; construct it with
    keywords.
    """

    store: RawDataStore

    @classmethod
    def local(cls, raw_dir: Path | None = None) -> TransferContext:
        """A context over a :class:`~skyloom.types.local_store.LocalRawDataStore` at ``raw_dir``
        (a new temporary directory when omitted)."""
        return cls(store=LocalRawDataStore(raw_dir))
