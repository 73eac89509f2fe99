"""The dependency rule from docs/architecture.md, checked on what is actually installed.

- The SDK (what authors `pip install`) pulls in no server libraries.
- No package imports a service it is not, and libraries never import services.
"""

from __future__ import annotations

import ast
import re
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SERVER_LIBS = {
    "asyncpg",
    "nats-py",
    "kubernetes",
    "kubernetes-asyncio",
    "sqlalchemy",
    "alembic",
    "prometheus-client",
    "opentelemetry-sdk",
    "grpcio-health-checking",
    "grpcio-reflection",
    "skyloom-common",
}
SERVICES = ["admin", "propeller", "scheduler", "datacatalog", "plugins"]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_closure(dist_name: str) -> set[str]:
    """Every distribution installing `dist_name` (without extras) brings in."""
    seen: set[str] = set()
    todo = [dist_name]
    while todo:
        name = _normalize(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for raw in distribution(name).requires or []:
            req = Requirement(raw)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            todo.append(req.name)
    return seen


def test_sdk_install_pulls_no_server_libraries() -> None:
    closure = _runtime_closure("skyloom")
    assert "skyloom-core" in closure  # the walk really followed the workspace deps
    assert closure & SERVER_LIBS == set()


def _imported_top_levels(src: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize(
    ("src", "forbidden"),
    [
        ("sdk/src", {"skyloom_common", *(f"skyloom_{s}" for s in SERVICES)}),
        ("libs/core/src", {"skyloom", "skyloom_common", *(f"skyloom_{s}" for s in SERVICES)}),
        ("libs/common/src", {"skyloom", *(f"skyloom_{s}" for s in SERVICES)}),
        *[
            (f"services/{s}/src", {"skyloom", *(f"skyloom_{o}" for o in SERVICES if o != s)})
            for s in SERVICES
        ],
    ],
)
def test_no_forbidden_imports(src: str, forbidden: set[str]) -> None:
    imports = _imported_top_levels(ROOT / src)
    offending = {name: sorted(files) for name, files in imports.items() if name in forbidden}
    assert offending == {}
