"""``skyloom``: the entry point. Subcommands load on demand so ``--help`` starts fast."""

from __future__ import annotations

import importlib

import click

# name -> (module:attribute, one-line help); modules load only when the command runs.
_COMMANDS = {
    "run": ("skyloom.cli.run:run", "Run a workflow or task from a Python file, locally."),
    "compile": ("skyloom.cli.run:compile_cmd", "Print the compiled form of a workflow as JSON."),
    "local-cache": ("skyloom.cli.cache:local_cache", "Inspect or clear the local cache."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        target, _ = _COMMANDS[cmd_name]
        module, attr = target.split(":")
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option("0.1.0", prog_name="skyloom")
def main() -> None:
    """Skyloom: typed, cached, retryable workflows for data and ML.

    \b
    skyloom run examples/hello.py:hello_wf --name you
    skyloom run --help
    """
