"""The SDK type engine: Python values ↔ Skyloom literals, through an explicit transformer registry.

Extend it by subclassing :class:`TypeTransformer` and calling :func:`register`.
"""

from skyloom.types.builtins import default_engine, new_engine, register
from skyloom.types.cli_values import from_json, parse_text, to_json
from skyloom.types.context import RawDataStore, TransferContext
from skyloom.types.engine import TypeEngine
from skyloom.types.errors import (
    InterfaceError,
    RegistrationError,
    SkyloomTypeError,
    TypeTransformerError,
)
from skyloom.types.hints import TypeHint
from skyloom.types.interface import PythonInterface, extract_interface
from skyloom.types.local_store import LocalRawDataStore
from skyloom.types.structured import Columns, columns
from skyloom.types.transformer import TypeTransformer

__all__ = [
    "Columns",
    "InterfaceError",
    "LocalRawDataStore",
    "PythonInterface",
    "RawDataStore",
    "RegistrationError",
    "SkyloomTypeError",
    "TransferContext",
    "TypeEngine",
    "TypeHint",
    "TypeTransformer",
    "TypeTransformerError",
    "columns",
    "default_engine",
    "extract_interface",
    "from_json",
    "new_engine",
    "parse_text",
    "register",
    "to_json",
]
