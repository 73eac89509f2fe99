"""``skyloom local-cache``."""

from __future__ import annotations

import click

from skyloom.local.cache import LocalCache, default_cache_dir


@click.group("local-cache")
def local_cache() -> None:
    """Inspect or clear the local cache (SKYLOOM_LOCAL_CACHE or ~/.skyloom/local-cache)."""


@local_cache.command("path")
def path() -> None:
    """Print where the local cache lives."""
    click.echo(default_cache_dir())


@local_cache.command("clear")
def clear() -> None:
    """Delete every cached result."""
    click.echo(f"removed {LocalCache().clear()} cached result(s)")
