"""Fixtures over the generated package and over the protobuf sources it comes from."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2

import skyloom_idl

ROOT = Path(__file__).resolve().parents[3]
PROTO_DIR = ROOT / "proto"


@pytest.fixture(scope="session")
def proto_dir() -> Path:
    return PROTO_DIR


@pytest.fixture(scope="session")
def module_names() -> list[str]:
    """Every module of the generated package, e.g. ``skyloom_idl.admin.execution_pb2``."""
    return sorted(
        info.name
        for info in pkgutil.walk_packages(skyloom_idl.__path__, prefix="skyloom_idl.")
        if not info.ispkg
    )


@pytest.fixture(scope="session")
def modules(module_names: list[str]) -> dict[str, ModuleType]:
    return {name: importlib.import_module(name) for name in module_names}


@pytest.fixture(scope="session")
def source_files(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[descriptor_pb2.FileDescriptorProto]:
    """The skyloom .proto files compiled with their comments (source info), as descriptors."""
    out = tmp_path_factory.mktemp("fds") / "skyloom.binpb"
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    cmd = [
        sys.executable, "-m", "grpc_tools.protoc", f"--proto_path={PROTO_DIR}",
        "--include_source_info", f"--descriptor_set_out={out}", *protos,
    ]  # fmt: skip
    subprocess.run(cmd, check=True, cwd=PROTO_DIR)
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return [f for f in fds.file if f.package.startswith("skyloom.")]
