"""Generate libs/idl/src/skyloom_idl from proto/, or check that it is up to date.

    python libs/idl/generate.py            # regenerate
    python libs/idl/generate.py --check    # buf lint + buf breaking + drift check

The protobuf packages are `skyloom.<group>`, so protoc emits imports such as
`from skyloom.core import literals_pb2`. The SDK owns the top-level `skyloom` package, so
the generated modules live under `skyloom_idl` instead and their imports are rewritten
(import lines only: the serialized descriptors keep the proto package names).
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "libs" / "idl" / "src" / "skyloom_idl"
BASELINE = PROTO_DIR / "baseline.binpb"
KEEP = {"py.typed"}

_IMPORT_RE = re.compile(r"^(from|import) skyloom\.", re.MULTILINE)
_MODULE_NAME_RE = re.compile(r"'skyloom\.(\w+)\.(\w+_pb2)'")
_PYI_NAME_RE = re.compile(r"\bskyloom\.(?=\w+\.\w+_pb2\b)")


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _protos() -> list[str]:
    return sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))


def _rewrite(path: Path) -> None:
    text = path.read_text()
    text = _IMPORT_RE.sub(r"\1 skyloom_idl.", text)
    if path.suffix == ".pyi":
        text = _PYI_NAME_RE.sub("skyloom_idl.", text)
    else:
        text = _MODULE_NAME_RE.sub(r"'skyloom_idl.\1.\2'", text)
    path.write_text(text)


def generate(out: Path) -> None:
    """Write the generated package into `out` (a directory that becomes skyloom_idl)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--proto_path={PROTO_DIR}",
            f"--python_out={tmp}",
            f"--grpc_python_out={tmp}",
            f"--plugin=protoc-gen-mypy={_bin('protoc-gen-mypy')}",
            f"--plugin=protoc-gen-mypy_grpc={_bin('protoc-gen-mypy_grpc')}",
            f"--mypy_out=quiet:{tmp}",
            f"--mypy_grpc_out=quiet:{tmp}",
            *_protos(),
        ]
        subprocess.run(cmd, check=True, cwd=PROTO_DIR)
        generated = Path(tmp) / "skyloom"
        for path in generated.rglob("*_grpc.py*"):
            if "Stub" not in path.read_text():  # a file without services needs no stubs
                path.unlink()
        for path in generated.rglob("*.py*"):
            _rewrite(path)
        for directory in [generated, *[p for p in generated.rglob("*") if p.is_dir()]]:
            (directory / "__init__.py").write_text("")
        for item in out.iterdir() if out.exists() else []:
            if item.name in KEEP:
                continue
            shutil.rmtree(item) if item.is_dir() else item.unlink()
        shutil.copytree(generated, out, dirs_exist_ok=True)
        (out / "__init__.py").write_text(
            '"""Generated from proto/ by libs/idl/generate.py. Do not edit."""\n'
        )


def _same_tree(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    diffs = [*cmp.left_only, *cmp.right_only, *cmp.diff_files]
    for sub in cmp.common_dirs:
        diffs += [f"{sub}/{d}" for d in _same_tree(a / sub, b / sub)]
    return diffs


def check() -> int:
    buf = _bin("buf")
    subprocess.run([buf, "lint"], check=True, cwd=ROOT)
    if BASELINE.exists():
        subprocess.run([buf, "breaking", "--against", str(BASELINE)], check=True, cwd=ROOT)
    else:
        print("no proto/baseline.binpb yet: skipping buf breaking", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "skyloom_idl"
        fresh.mkdir()
        for name in KEEP:
            shutil.copy(OUT_DIR / name, fresh / name)
        generate(fresh)
        drift = _same_tree(OUT_DIR, fresh)
    if drift:
        print("libs/idl is out of date with proto/; run `make proto`:", file=sys.stderr)
        for name in drift:
            print(f"  {name}", file=sys.stderr)
        return 1
    print("proto: lint clean, no breaking change, generated code up to date")
    return 0


def baseline() -> None:
    """Record the current contracts as the baseline `buf breaking` compares against."""
    subprocess.run([_bin("buf"), "build", "-o", str(BASELINE)], check=True, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="lint, breaking and drift check")
    parser.add_argument("--baseline", action="store_true", help="record the breaking baseline")
    args = parser.parse_args()
    if args.check:
        return check()
    if args.baseline:
        baseline()
        return 0
    generate(OUT_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
