"""Progress of a local run: a live table on a terminal (rich), plain lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

import click

from skyloom.local.executor import NodeEvent


class PlainView:
    """One line per phase change, on stderr."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def on_event(self, e: NodeEvent) -> None:
        attempt = f" attempt {e.attempt + 1}" if e.attempt else ""
        msg = f" {e.message}" if e.message and e.phase in ("FAILED", "RETRYING", "WAITING") else ""
        elapsed = time.monotonic() - self.start
        click.echo(
            f"[{elapsed:7.2f}s] {e.node_id:<10} {e.name:<20} {e.phase}{attempt}{msg}", err=True
        )


class LiveView:
    """A table of nodes that updates in place (rich is imported only here)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.rows: dict[str, NodeEvent] = {}
        self.live = Live(self._table(), console=Console(stderr=True), refresh_per_second=8)

    def _table(self) -> Any:
        from rich.table import Table

        colors = {"SUCCEEDED": "green", "FAILED": "red", "CACHED": "cyan", "RETRYING": "yellow"}
        table = Table("node", "task", "phase", "attempt", "message")
        for e in self.rows.values():
            color = colors.get(e.phase, "white")
            table.add_row(
                e.node_id, e.name, f"[{color}]{e.phase}", str(e.attempt + 1), e.message[:60]
            )
        return table

    def __enter__(self) -> LiveView:
        self.live.__enter__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.live.update(self._table())
        self.live.__exit__(et, ev, tb)

    def on_event(self, e: NodeEvent) -> None:
        self.rows[e.node_id] = e
        self.live.update(self._table())


def make_view(*, plain: bool) -> PlainView | LiveView:
    if plain or not sys.stderr.isatty():
        return PlainView()
    return LiveView()
