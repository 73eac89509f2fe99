"""``pandas.DataFrame`` as a Parquet ``StructuredDataset`` (see :mod:`skyloom.types.structured`).

pandas is imported only when a value is converted; matching looks in ``sys.modules`` (a hint
can only be ``pd.DataFrame`` if pandas is imported). The index is kept as pandas' Parquet
metadata does (a ``RangeIndex`` as metadata, others as columns).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from skyloom.types.structured import TableTransformer

if TYPE_CHECKING:
    import pandas as pd


class PandasTransformer(TableTransformer["pd.DataFrame"]):
    """``pd.DataFrame`` (optionally ``Annotated`` with columns) ↔ Parquet dataset."""

    name = "pandas"
    module = "pandas"
    class_name = "DataFrame"

    def column_names(self, table: pd.DataFrame) -> list[str]:
        return [str(c) for c in table.columns]

    def select(self, table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
        return table[names]

    def write(self, table: pd.DataFrame, path: Path) -> None:
        table.to_parquet(path)

    def read(self, path: Path, names: list[str] | None) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(path, columns=names)
