"""Shared parts of the table transformers (pandas, pyarrow): columns, Parquet I/O, literals.

Tables are written as one Parquet file in the raw-data store and passed as a
``StructuredDataset`` literal with ``format="parquet"``; ``Literal.hash`` is the SHA-256 of the
Parquet bytes. Columns are declared with ``Annotated``::

    Annotated[pd.DataFrame, {"a": int, "b": str}]       # or
    Annotated[pd.DataFrame, columns(a=int, b=str)]

Declared columns appear in the interface (``StructuredDatasetType.columns``); when writing,
every declared column must exist and only those are stored (in declared order); when reading,
only those are loaded. Undeclared columns mean "any columns".
"""

from __future__ import annotations

import sys
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from skyloom.types.content_hash import file_sha256
from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, strip_annotated, type_name
from skyloom.types.protos import literal_kind, scalar, scalar_kind
from skyloom.types.transformer import Converter, TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2

PARQUET = "parquet"
T = TypeVar("T")


class Columns(dict[str, TypeHint]):
    """Declared table columns, name → Python type, in order. Build with :func:`columns`."""


def columns(**types: TypeHint) -> Columns:
    """``columns(a=int, b=str)``: column declarations for ``Annotated[DataFrame, ...]``."""
    return Columns(types)


def declared_columns(python_type: TypeHint) -> dict[str, TypeHint]:
    """The columns declared in an ``Annotated`` hint (the first mapping found), else empty."""
    _, extras = strip_annotated(python_type)
    for extra in extras:
        if isinstance(extra, Mapping) and all(isinstance(k, str) for k in extra):
            return dict(extra)
    return {}


def dataset_type(engine: Converter, python_type: TypeHint) -> types_pb2.StructuredDatasetType:
    """The ``StructuredDatasetType`` for a (possibly annotated) table hint."""
    cols = [
        types_pb2.StructuredDatasetType.DatasetColumn(
            name=name, literal_type=engine.literal_type(t)
        )
        for name, t in declared_columns(python_type).items()
    ]
    return types_pb2.StructuredDatasetType(columns=cols, format=PARQUET)


def check_columns(expected: str, present: list[str], wanted: list[str]) -> None:
    """Raise when a declared column is missing from a table."""
    missing = [c for c in wanted if c not in present]
    if missing:
        raise TypeTransformerError(
            expected, f"a table without column {missing[0]!r} (has {', '.join(present)})"
        )


def upload_parquet(
    engine: Converter, path: Path, python_type: TypeHint, ctx: TransferContext
) -> literals_pb2.Literal:
    """Upload a written Parquet file; the literal carries its content hash."""
    digest = file_sha256(path)
    uri = ctx.store.upload_file(path)
    sd = literals_pb2.StructuredDataset(
        uri=uri,
        metadata=literals_pb2.StructuredDatasetMetadata(
            structured_dataset_type=dataset_type(engine, python_type)
        ),
    )
    lit = scalar(structured_dataset=sd)
    lit.hash = digest
    return lit


def download_parquet(literal: literals_pb2.Literal, expected: str, ctx: TransferContext) -> Path:
    """The local path of a dataset literal's Parquet file (downloads it)."""
    if scalar_kind(literal) != "structured_dataset":
        raise TypeTransformerError(expected, f"a {literal_kind(literal)} literal")
    sd = literal.scalar.structured_dataset
    fmt = sd.metadata.structured_dataset_type.format
    if fmt not in ("", PARQUET):
        raise TypeTransformerError(expected, f"a dataset stored as {fmt!r}, not parquet")
    return ctx.store.download_file(sd.uri)


def is_table_literal_type(literal_type: types_pb2.LiteralType) -> bool:
    """Whether a literal type is a structured dataset."""
    return literal_type.WhichOneof("type") == "structured_dataset_type"


class TableTransformer(TypeTransformer[T]):
    """A table class (optionally ``Annotated`` with columns) ↔ one Parquet file as a dataset.

    The class is ``module.class_name`` looked up in ``sys.modules``: a hint can only name it once
    the library is imported, so matching never imports it. Subclasses import the library when a
    value is converted and say how to list, select, write and read columns.
    """

    module: str
    class_name: str

    def __init__(self, engine: Converter) -> None:
        self._engine = engine

    def table_class(self) -> type | None:
        """The table class, if its library is imported."""
        module = sys.modules.get(self.module)
        cls = getattr(module, self.class_name, None) if module is not None else None
        return cls if isinstance(cls, type) else None

    def matches(self, python_type: TypeHint) -> bool:
        cls = self.table_class()
        return cls is not None and strip_annotated(python_type)[0] is cls

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(
            structured_dataset_type=dataset_type(self._engine, python_type)
        )

    def to_literal(
        self, value: T, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        cls = self.table_class()
        if cls is None or not isinstance(value, cls):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        wanted = list(declared_columns(python_type))
        if wanted:
            check_columns(type_name(python_type), self.column_names(value), wanted)
            value = self.select(value, wanted)
        path = ctx.store.new_local_path("data.parquet")
        self.write(value, path)
        return upload_parquet(self._engine, path, python_type, ctx)

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> T:
        path = download_parquet(literal, type_name(python_type), ctx)
        return self.read(path, list(declared_columns(python_type)) or None)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        return is_table_literal_type(literal_type) and self.table_class() is not None

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return self.table_class()

    @abstractmethod
    def column_names(self, table: T) -> list[str]:
        """The table's column names."""

    @abstractmethod
    def select(self, table: T, names: list[str]) -> T:
        """Only the columns ``names``, in that order."""

    @abstractmethod
    def write(self, table: T, path: Path) -> None:
        """Write the table as Parquet to ``path``."""

    @abstractmethod
    def read(self, path: Path, names: list[str] | None) -> T:
        """Read a Parquet file (only ``names`` when given)."""
