"""pandas DataFrames and pyarrow Tables as Parquet datasets; numpy arrays as tagged binaries."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pytest
from google.protobuf import json_format

from skyloom.types import TransferContext, TypeEngine, TypeTransformerError, columns
from skyloom.types.local_store import RecordingStore


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, 1.5, 2.5]})


def test_dataframe_round_trip(
    engine: TypeEngine, ctx: TransferContext, store: RecordingStore
) -> None:
    lit = engine.to_literal(_frame(), pd.DataFrame, ctx)
    sd = lit.scalar.structured_dataset
    assert sd.metadata.structured_dataset_type.format == "parquet"
    assert sd.uri.startswith(store.raw_data_prefix)
    back = engine.to_python(lit, pd.DataFrame, ctx)
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back, _frame())


def test_dataframe_hash_follows_content(engine: TypeEngine, ctx: TransferContext) -> None:
    one = engine.to_literal(_frame(), pd.DataFrame, ctx)
    two = engine.to_literal(_frame(), pd.DataFrame, ctx)
    changed = _frame()
    changed.loc[0, "a"] = 99
    three = engine.to_literal(changed, pd.DataFrame, ctx)
    assert one.hash == two.hash
    assert one.hash != three.hash


def test_declared_columns_in_interface(engine: TypeEngine) -> None:
    def fn(
        df: Annotated[pd.DataFrame, {"a": int, "b": str}],
    ) -> Annotated[pd.DataFrame, columns(c=float)]:
        return df

    typed = engine.interface(fn)
    assert json_format.MessageToDict(typed.inputs.variables["df"].type) == {
        "structuredDatasetType": {
            "columns": [
                {"name": "a", "literalType": {"simple": "SIMPLE_TYPE_INTEGER"}},
                {"name": "b", "literalType": {"simple": "SIMPLE_TYPE_STRING"}},
            ],
            "format": "parquet",
        }
    }
    out_cols = typed.outputs.variables["o0"].type.structured_dataset_type.columns
    assert [(c.name, c.literal_type.simple) for c in out_cols] == [("c", 3)]


def test_declared_columns_subset_on_write_and_read(
    engine: TypeEngine, ctx: TransferContext
) -> None:
    hint = Annotated[pd.DataFrame, columns(c=float, a=int)]
    lit = engine.to_literal(_frame(), hint, ctx)
    back = engine.to_python(lit, hint, ctx)
    assert isinstance(back, pd.DataFrame)
    assert list(back.columns) == ["c", "a"]
    full = engine.to_literal(_frame(), pd.DataFrame, ctx)
    only_b = engine.to_python(full, Annotated[pd.DataFrame, {"b": str}], ctx)
    assert isinstance(only_b, pd.DataFrame)
    assert list(only_b.columns) == ["b"]


def test_missing_declared_column(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError, match="without column 'zzz'"):
        engine.literal_map({"df": _frame()}, {"df": Annotated[pd.DataFrame, {"zzz": int}]}, ctx)


def test_not_a_dataframe(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError, match="expected DataFrame, got list"):
        engine.to_literal([1, 2], pd.DataFrame, ctx)


def test_arrow_table_round_trip(engine: TypeEngine, ctx: TransferContext) -> None:
    table = pa.table({"a": [1, 2], "b": ["p", "q"]})
    lit = engine.to_literal(table, pa.Table, ctx)
    back = engine.to_python(lit, pa.Table, ctx)
    assert isinstance(back, pa.Table)
    assert back.equals(table)
    # a table written by pyarrow reads as a pandas frame, and the other way round
    frame = engine.to_python(lit, pd.DataFrame, ctx)
    assert isinstance(frame, pd.DataFrame)
    assert frame["b"].tolist() == ["p", "q"]
    subset = engine.to_python(lit, Annotated[pa.Table, columns(b=str)], ctx)
    assert isinstance(subset, pa.Table)
    assert subset.column_names == ["b"]


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.int32).reshape(3, 4),
        np.asfortranarray(np.linspace(0, 1, 6).reshape(2, 3)),
        np.array([], dtype=np.float16),
        np.array(["a", "bc"]),
    ],
)
def test_numpy_round_trip(engine: TypeEngine, ctx: TransferContext, array: np.ndarray) -> None:
    lit = engine.to_literal(array, np.ndarray, ctx)
    assert lit.scalar.binary.tag == "numpy"
    back = engine.to_python(lit, npt.NDArray[np.float64], ctx)
    assert isinstance(back, np.ndarray)
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_numpy_object_arrays_are_refused(engine: TypeEngine, ctx: TransferContext) -> None:
    with pytest.raises(TypeTransformerError, match="without Python objects"):
        engine.to_literal(np.array([object()]), np.ndarray, ctx)


def test_numpy_binary_is_not_bytes(engine: TypeEngine, ctx: TransferContext) -> None:
    lit = engine.to_literal(np.zeros(2), np.ndarray, ctx)
    with pytest.raises(TypeTransformerError, match="binary tagged 'numpy'"):
        engine.to_python(lit, bytes, ctx)
