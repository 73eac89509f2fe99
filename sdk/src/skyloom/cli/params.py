"""Command-line flags generated from an entity's interface, parsed through the type engine."""

from __future__ import annotations

import datetime as dt
import enum
import json
from pathlib import Path
from typing import Any

import click

from skyloom._engine import compile_context, engine
from skyloom.types import SkyloomTypeError, from_json
from skyloom.types.hints import type_name


class JsonParam(click.ParamType):  # type: ignore[type-arg]
    """Lists, dicts, dataclasses and pydantic models, written as JSON."""

    def __init__(self, py_type: Any) -> None:
        self.py_type = py_type
        self.name = type_name(py_type)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            data = json.loads(value)
        except json.JSONDecodeError as err:
            self.fail(f"{value!r} is not JSON: {err}", param, ctx)
        try:
            return from_json(engine(), data, self.py_type, compile_context())
        except SkyloomTypeError as err:
            self.fail(str(err), param, ctx)


class PathParam(click.ParamType):  # type: ignore[type-arg]
    """File, Directory and data frames, given as local paths."""

    def __init__(self, py_type: Any) -> None:
        self.py_type = py_type
        self.name = getattr(py_type, "__name__", "path")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        path = Path(value)
        if not path.exists():
            self.fail(f"{value} does not exist", param, ctx)
        name = getattr(self.py_type, "__name__", "")
        if name == "DataFrame":
            import pandas as pd

            return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
        if name == "Table":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        return self.py_type(path)


def param_type(t: Any) -> Any:
    if t is int:
        return click.INT
    if t is float:
        return click.FLOAT
    if t is str:
        return click.STRING
    if t is dt.datetime:
        return click.DateTime()
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return click.Choice([str(m.value) for m in t])
    name = getattr(t, "__name__", "")
    if name in ("File", "Directory", "DataFrame", "Table"):
        return PathParam(t)
    return JsonParam(t)


def options_for(entity: Any) -> list[click.Option]:
    """One ``--name`` flag per input; help from the docstring, defaults from the signature."""
    iface = entity.py_interface
    opts = []
    for name, t in iface.inputs.items():
        flag = "--" + name.replace("_", "-")
        has_default = name in iface.defaults
        default = iface.defaults.get(name)
        help_ = iface.input_descriptions.get(name, "")
        if t is bool:
            opts.append(
                click.Option(
                    [f"{flag}/--no-{name.replace('_', '-')}", name],
                    default=bool(default) if has_default else None,
                    required=not has_default,
                    help=help_,
                    show_default=has_default,
                )
            )
            continue
        shown = default
        if has_default and not isinstance(default, int | float | str | type(None)):
            shown = json.dumps(default, default=str)
        opts.append(
            click.Option(
                [flag, name],
                type=param_type(t),
                required=not has_default,
                default=shown if has_default else None,
                help=help_ or type_name(t),
                show_default=has_default,
            )
        )
    return opts


def coerce(entity: Any, name: str, value: Any) -> Any:
    """Enum choices come back as strings; turn them into members."""
    t = entity.py_interface.inputs[name]
    if isinstance(t, type) and issubclass(t, enum.Enum) and isinstance(value, str):
        return t(value)
    return value
