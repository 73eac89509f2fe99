"""``File`` and ``Directory``: raw data passed between tasks by URI, downloaded lazily.

A value knows its local path, its remote URI, or both::

    @task
    def clean(raw: File["csv"]) -> File["csv"]:
        with raw.open() as fh:            # first access downloads; nothing is fetched before
            rows = fh.read().splitlines()
        out = Path("clean.csv"); out.write_text(...)
        return File(out)                  # uploaded to the raw-data store when serialized

``File["csv"]`` is a subclass whose ``format`` is ``"csv"`` (the literal's ``BlobType.format``).
Static checkers do not understand the subscription (mypy reports ``File`` as not generic; add
``# type: ignore[misc]`` or use plain ``File``); ``File.with_format("csv")`` is the same class.
Serializing records the content's SHA-256 in ``Literal.hash`` so cache keys follow content, not
URIs; a value read from a literal keeps that hash and its URI, so returning it again transfers
nothing. Downloads are private copies: to return changed content, write and return a new
``File`` (changes to a downloaded copy are not uploaded).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, ClassVar, TypeVar
from urllib.parse import urlparse

_B = TypeVar("_B", bound="_Blob")
Fetch = Callable[[str], Path]


class BlobAccessError(RuntimeError):
    """A remote-only file or directory was accessed where no store can download it."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(
            f"{uri} is not local and no raw-data store was given to download it; values read "
            "from task inputs download on access, values built by hand need a local path"
        )


def is_uri(text: str) -> bool:
    """``s3://b/k`` or ``file:///x`` (a one-letter scheme is a Windows drive, not a URI)."""
    scheme = urlparse(text).scheme
    return len(scheme) > 1 and "://" in text


class _Blob(os.PathLike[str]):
    format: ClassVar[str] = ""
    _formats: ClassVar[dict[str, type[_Blob]]]

    def __init__(self, path: str | os.PathLike[str]) -> None:
        text = os.fspath(path)
        self._local: Path | None = None if is_uri(text) else Path(text)
        self._uri: str | None = text if is_uri(text) else None
        self._hash = ""
        self._fetch: Fetch | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("_is_format_variant", False):
            cls._formats = {}  # each real class (File, Directory, a user's) has its own variants

    def __class_getitem__(cls: type[_B], fmt: str) -> type[_B]:
        return cls.with_format(fmt)

    @classmethod
    def with_format(cls: type[_B], fmt: str) -> type[_B]:
        """The subclass for ``fmt`` (what ``File["csv"]`` returns); one class per format."""
        if not isinstance(fmt, str):
            raise TypeError(f"{cls.__name__}[...] takes a format string such as 'csv'")
        if cls.__dict__.get("_is_format_variant", False):
            raise TypeError(f"{cls.__name__} already has a format")
        cache = cls._formats
        if fmt not in cache:
            cache[fmt] = type(
                f'{cls.__name__}["{fmt}"]',
                (cls,),
                {"format": fmt, "_is_format_variant": True, "__module__": cls.__module__},
            )
        found = cache[fmt]
        assert issubclass(found, cls)
        return found

    @classmethod
    def from_uri(
        cls: type[_B], uri: str, *, fetch: Fetch | None = None, content_hash: str = ""
    ) -> _B:
        """A remote value that downloads through ``fetch`` on first access to :attr:`path`."""
        obj = cls(uri)
        obj._fetch = fetch
        obj._hash = content_hash
        return obj

    @property
    def uri(self) -> str | None:
        """The remote URI, if the value came from (or was uploaded to) a store."""
        return self._uri

    @property
    def content_hash(self) -> str:
        """The SHA-256 recorded for the content, if known (empty until serialized once)."""
        return self._hash

    @property
    def downloaded(self) -> bool:
        """Whether :attr:`path` is available without a transfer."""
        return self._local is not None

    @property
    def local_path(self) -> Path | None:
        """The local path if there is one, without downloading."""
        return self._local

    @property
    def path(self) -> Path:
        """The local path; downloads on first access (once) when the value is remote-only."""
        if self._local is None:
            assert self._uri is not None
            if self._fetch is not None:
                self._local = self._fetch(self._uri)
            elif urlparse(self._uri).scheme == "file":
                self._local = Path(urlparse(self._uri).path)
            else:
                raise BlobAccessError(self._uri)
        return self._local

    def __fspath__(self) -> str:
        return str(self.path)

    def _key(self) -> tuple[object, ...]:
        return (self.format, self._uri, self._local if self._uri is None else None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Blob) or isinstance(other, File) != isinstance(self, File):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        where = self._uri if self._uri is not None else str(self._local)
        return f"{type(self).__name__}({where!r})"


class File(_Blob):
    """A single file. ``File(path)``, ``File("s3://bucket/key")``; ``File["csv"]`` for a format."""

    def open(self, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """``open(self.path, mode, ...)``; downloads first if needed."""
        return open(self.path, mode, **kwargs)

    def read_bytes(self) -> bytes:
        """The whole content; downloads first if needed."""
        return self.path.read_bytes()


class Directory(_Blob):
    """A directory tree (a multipart blob). ``Directory["parquet"]`` for a format."""

    def files(self) -> list[Path]:
        """Every file below the directory, sorted; downloads first if needed."""
        return sorted(p for p in self.path.rglob("*") if p.is_file())
