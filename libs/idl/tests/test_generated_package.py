"""The generated package is complete, importable on its own, and never imports the SDK."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import skyloom_idl

PACKAGE_DIR = Path(skyloom_idl.__file__).parent


def test_every_proto_has_exactly_one_generated_module(
    proto_dir: Path, module_names: list[str]
) -> None:
    expected = {
        "skyloom_idl."
        + ".".join(p.relative_to(proto_dir / "skyloom").with_suffix("").parts)
        + "_pb2"
        for p in proto_dir.rglob("*.proto")
    }
    actual = {m for m in module_names if m.endswith("_pb2")}
    assert actual == expected


def test_modules_register_descriptors_under_proto_package_names(
    modules: dict[str, ModuleType],
) -> None:
    # Wire and reflection names stay `skyloom.<group>` although the modules moved (ADR 0002).
    for name, module in modules.items():
        if name.endswith("_pb2"):
            group = name.split(".")[1]
            assert module.DESCRIPTOR.package == f"skyloom.{group}", name


def test_generated_code_never_imports_the_sdk_namespace() -> None:
    # `skyloom` is the SDK's package: a leftover `from skyloom.core import ...` (or a module
    # name such as `skyloom.core.literals_pb2` in a stub annotation or a descriptor's module
    # path) would import the SDK (or fail) instead of the sibling generated module.
    bad = re.compile(r"^\s*(from|import) skyloom\.|\bskyloom\.\w+\.\w+_pb2\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(PACKAGE_DIR))
        for path in PACKAGE_DIR.rglob("*.py*")
        if path.suffix in {".py", ".pyi"} and bad.search(path.read_text())
    ]
    assert offenders == []


def test_imports_without_code_generators_installed() -> None:
    # Services and task images install skyloom-idl without grpcio-tools or mypy-protobuf.
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"grpc_tools", "mypy_protobuf"}:
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        import skyloom_idl
        for info in pkgutil.walk_packages(skyloom_idl.__path__, prefix="skyloom_idl."):
            importlib.import_module(info.name)
        assert "grpc_tools" not in sys.modules
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
