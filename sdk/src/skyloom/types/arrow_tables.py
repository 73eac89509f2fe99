"""``pyarrow.Table`` as a Parquet ``StructuredDataset`` (see :mod:`skyloom.types.structured`).

pyarrow is imported only when a value is converted; matching looks in ``sys.modules``.
"""

from __future__ import annotations

import sys

from skyloom.types.context import TransferContext
from skyloom.types.errors import TypeTransformerError
from skyloom.types.hints import TypeHint, strip_annotated, type_name
from skyloom.types.structured import (
    check_columns,
    dataset_type,
    declared_columns,
    download_parquet,
    is_table_literal_type,
    upload_parquet,
)
from skyloom.types.transformer import Converter, TypeTransformer
from skyloom_idl.core import literals_pb2, types_pb2


def _table_class() -> type | None:
    module = sys.modules.get("pyarrow")
    cls = getattr(module, "Table", None) if module is not None else None
    return cls if isinstance(cls, type) else None


class ArrowTransformer(TypeTransformer[object]):
    """``pa.Table`` (optionally ``Annotated`` with columns) ↔ Parquet dataset."""

    name = "pyarrow"

    def __init__(self, engine: Converter) -> None:
        self._engine = engine

    def matches(self, python_type: TypeHint) -> bool:
        cls = _table_class()
        return cls is not None and strip_annotated(python_type)[0] is cls

    def get_literal_type(self, python_type: TypeHint) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(
            structured_dataset_type=dataset_type(self._engine, python_type)
        )

    def to_literal(
        self, value: object, python_type: TypeHint, ctx: TransferContext
    ) -> literals_pb2.Literal:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not isinstance(value, pa.Table):
            raise TypeTransformerError.for_value(type_name(python_type), value)
        wanted = list(declared_columns(python_type))
        if wanted:
            check_columns(type_name(python_type), list(value.column_names), wanted)
            value = value.select(wanted)
        path = ctx.store.new_local_path("data.parquet")
        pq.write_table(value, path)
        return upload_parquet(self._engine, path, python_type, ctx)

    def to_python(
        self, literal: literals_pb2.Literal, python_type: TypeHint, ctx: TransferContext
    ) -> object:
        import pyarrow.parquet as pq

        path = download_parquet(literal, type_name(python_type), ctx)
        wanted = list(declared_columns(python_type))
        return pq.read_table(path, columns=wanted or None)

    def matches_literal_type(self, literal_type: types_pb2.LiteralType) -> bool:
        # pandas is the more common reader; pyarrow answers only when pandas is absent.
        return (
            is_table_literal_type(literal_type)
            and _table_class() is not None
            and "pandas" not in sys.modules
        )

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> TypeHint:
        return _table_class()
