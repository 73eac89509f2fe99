"""``pyarrow.Table`` as a Parquet ``StructuredDataset`` (see :mod:`skyloom.types.structured`).

pyarrow is imported only when a value is converted; matching looks in ``sys.modules``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from skyloom.types.structured import TableTransformer
from skyloom_idl.core import types_pb2

if TYPE_CHECKING:
    import pyarrow as pa


class ArrowTransformer(TableTransformer["pa.Table"]):
    """``pa.Table`` (optionally ``Annotated`` with columns) ↔ Parquet dataset."""

    name = "pyarrow"
    module = "pyarrow"
    class_name = "Table"

    def column_names(self, table: pa.Table) -> list[str]:
        return list(table.column_names)

    def select(self, table: pa.Table, names: list[str]) -> pa.Table:
        return table.select(names)

    def write(self, table: pa.Table, path: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(table, path)

    def read(self, path: Path, names: list[str] | None) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=names)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        # pandas is the more common reader; pyarrow answers only when pandas is absent.
        return super().matches_literal_type(literal_type) and "pandas" not in sys.modules
