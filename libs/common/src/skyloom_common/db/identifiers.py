"""SQL identifier checks: schema names are interpolated into DDL, so they are validated first."""

from __future__ import annotations

import re

__all__ = ["quote_ident", "validate_schema"]

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def validate_schema(name: str) -> str:
    """Return ``name`` if it is a plain lower-case identifier (what services use), else raise.

    Only ``[a-z_][a-z0-9_]*`` up to 63 bytes is accepted, so the name can never carry SQL.
    """
    if not _IDENT.match(name):
        raise ValueError(f"invalid schema name {name!r}: use [a-z_][a-z0-9_]*, at most 63 chars")
    return name


def quote_ident(name: str) -> str:
    """``"name"`` for a validated identifier."""
    return f'"{validate_schema(name)}"'
