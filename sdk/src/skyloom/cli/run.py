"""``skyloom run file.py:entity --input value ...`` and ``skyloom compile file.py:entity``."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from skyloom._errors import CompileError, ExecutionError
from skyloom._source import author_traceback
from skyloom.cli.params import coerce, options_for
from skyloom.cli.view import make_view
from skyloom.types.docstrings import parse_docstring


def load_entity(target: str) -> Any:
    """Import ``path/to/file.py`` (as module ``file``) and return its ``entity``."""
    path_str, sep, name = target.rpartition(":")
    if not sep or not path_str.endswith(".py"):
        raise click.UsageError(f"expected FILE.py:NAME, got {target!r}")
    path = Path(path_str).resolve()
    if not path.is_file():
        raise click.UsageError(f"{path_str} does not exist")
    module_name = path.stem
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    module = sys.modules.get(module_name)
    if module is not None and getattr(module, "__file__", None) != str(path):
        raise click.UsageError(
            f"{path_str} would be imported as module {module_name!r}, which is already "
            f"{getattr(module, '__file__', None) or 'a built-in module'}; rename the file"
        )
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise click.UsageError(f"cannot import {path_str}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except CompileError as err:
            sys.modules.pop(module_name, None)
            raise click.ClickException(str(err)) from None
    entity = getattr(module, name, None)
    if entity is None or not hasattr(entity, "py_interface"):
        found = sorted(k for k, v in vars(module).items() if hasattr(v, "py_interface"))
        raise click.UsageError(
            f"{path_str} has no workflow or task {name!r} (found: {', '.join(found)})"
        )
    return entity


@dataclass
class RunOptions:
    cache_dir: Path | None = None
    run_dir: Path | None = None
    overwrite_cache: bool = False
    signals: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, bool] = field(default_factory=dict)
    plain: bool = False
    prompt: bool = False


def _parse_signal(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep:
        raise click.BadParameter(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


class RunGroup(click.Group):
    """Each ``FILE.py:NAME`` is a command whose flags come from NAME's interface."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entity = load_entity(cmd_name)
        return click.Command(
            cmd_name,
            params=list(options_for(entity)),
            callback=functools.partial(_run, entity),
            help=parse_docstring(entity.__doc__).summary or f"Run {cmd_name}.",
        )


@click.group("run", cls=RunGroup, subcommand_metavar="FILE.py:NAME [--input VALUE]...")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="local cache directory")
@click.option("--run-dir", type=click.Path(path_type=Path), help="where attempts write decks")
@click.option("--overwrite-cache", is_flag=True, help="run cached tasks again")
@click.option("--signal", "signals", multiple=True, help="NAME=VALUE for wait_for_input")
@click.option("--approve", "approvals", multiple=True, help="approve the gate NAME")
@click.option("--reject", "rejections", multiple=True, help="reject the gate NAME")
@click.option("--plain", is_flag=True, help="plain progress lines even on a terminal")
@click.option(
    "--prompt/--no-prompt",
    default=None,
    help="ask for gate approvals and inputs not given as flags (default: on a terminal)",
)
@click.pass_context
def run(
    ctx: click.Context,
    cache_dir: Path | None,
    run_dir: Path | None,
    overwrite_cache: bool,
    signals: tuple[str, ...],
    approvals: tuple[str, ...],
    rejections: tuple[str, ...],
    plain: bool,
    prompt: bool | None,
) -> None:
    """Run a workflow, launch plan or task locally, with remote semantics."""
    ctx.obj = RunOptions(
        cache_dir,
        run_dir,
        overwrite_cache,
        dict(_parse_signal(s) for s in signals),
        {**dict.fromkeys(approvals, True), **dict.fromkeys(rejections, False)},
        plain,
        sys.stdin.isatty() if prompt is None else prompt,
    )


def _prompt(name: str, what: str) -> str:
    return str(click.prompt(f"gate '{name}': {what}", err=True))


def _run(entity: Any, **kwargs: Any) -> None:
    from skyloom.local.cache import LocalCache
    from skyloom.local.executor import LocalConfig
    from skyloom.local.run import execute

    opts = click.get_current_context().find_object(RunOptions) or RunOptions()
    inputs = {k: coerce(entity, k, v) for k, v in kwargs.items() if v is not None}
    view = make_view(plain=opts.plain)
    config = LocalConfig(
        cache=LocalCache(opts.cache_dir),
        run_dir=opts.run_dir,
        signals=opts.signals,
        approvals=opts.approvals,
        prompt=_prompt if opts.prompt else None,
        on_event=view.on_event,
        overwrite_cache=opts.overwrite_cache,
    )
    try:
        with view:
            result = execute(entity, inputs, config=config)
    except ExecutionError as err:
        click.secho(f"FAILED: {err}", fg="red", err=True)
        if err.__cause__ is not None:
            click.echo(author_traceback(err.__cause__), err=True, nl=False)
        raise SystemExit(1) from None
    except TypeError as err:
        raise click.UsageError(str(err)) from None
    except KeyboardInterrupt:
        click.secho("interrupted", fg="yellow", err=True)
        raise SystemExit(130) from None
    click.echo(f"run {result.execution_id}: {result.run_dir}", err=True)
    for name, path in sorted(result.decks.items()):
        click.echo(f"deck {name}: {path}", err=True)
    value = result.value
    names = list(entity.py_interface.outputs)
    values = [value] if len(names) == 1 else list(value or ())
    for name, v in zip(names, values, strict=False):
        click.echo(f"{name}: {_show(v)}")


def _show(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


@click.command("compile")
@click.argument("target")
def compile_cmd(target: str) -> None:
    """Print the compiled closure (or task template) of FILE.py:NAME as JSON."""
    from skyloom.core.serialize import compiled_json

    click.echo(compiled_json(load_entity(target)), nl=False)
