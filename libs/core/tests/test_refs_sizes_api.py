"""Entity keys and lookup, size limits, and the package's public surface."""

from __future__ import annotations

import pkgutil

import pytest

import skyloom_core
from skyloom_core import build as t
from skyloom_core.errors import InvalidIdentifier
from skyloom_core.refs import id_key, parse_id_key, resolve
from skyloom_core.sizes import check_literal_limits, literal_depth, literal_map_size
from skyloom_idl.core import identifier_pb2

ENTRIES = {"proj/dev/a@v1": 1, "proj/dev/a@v2": 2, "other/dev/b@v1": 3}


def ident(
    project: str = "", domain: str = "", name: str = "", version: str = ""
) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(project=project, domain=domain, name=name, version=version)


def test_id_key_round_trip() -> None:
    i = ident("proj", "dev", "pkg.wf", "v1.0")
    assert id_key(i) == "proj/dev/pkg.wf@v1.0"
    assert parse_id_key(id_key(i)) == i
    with pytest.raises(InvalidIdentifier):
        parse_id_key("no-version-here")


def test_resolve_exact_wildcard_and_ambiguous() -> None:
    assert resolve(ident("proj", "dev", "a", "v2"), ENTRIES).value == 2
    local = resolve(ident(name="b", version="v1"), ENTRIES)
    assert (local.key, local.value) == ("other/dev/b@v1", 3)
    ambiguous = resolve(ident(name="a"), ENTRIES)
    assert ambiguous.value is None
    assert ambiguous.candidates == ("proj/dev/a@v1", "proj/dev/a@v2")
    assert not resolve(ident("proj", "dev", "zzz", "v1"), ENTRIES).found


def test_size_and_depth_limits() -> None:
    small = t.literal_map({"x": t.int_literal(1)})
    assert literal_map_size(small) == small.ByteSize()
    assert check_literal_limits(small, max_bytes=1024) == []
    big = t.literal_map({"s": t.str_literal("x" * 5000)})
    (v,) = check_literal_limits(big, max_bytes=4096)
    assert (v.code, v.field_path) == ("LiteralTooLarge", "inputs")
    assert "over the limit of 4.0 KiB (4096 bytes)" in v.message
    deep = t.int_literal(1)
    for _ in range(40):
        deep = t.list_literal([deep])
    assert literal_depth(deep) == 41
    (d,) = check_literal_limits(t.literal_map({"d": deep}), max_bytes=10**6, max_depth=32)
    assert (d.code, d.field_path) == ("LiteralTooDeep", "inputs.d")


def test_public_surface() -> None:
    assert skyloom_core.__all__ == sorted(skyloom_core.__all__)
    public = {n for n in dir(skyloom_core) if not n.startswith("_")}
    # Submodules show up in dir() once any test imported them; they are not the API.
    modules = {m.name for m in pkgutil.iter_modules(skyloom_core.__path__)}
    assert public - modules - {"cache_key"} == set(skyloom_core.__all__) - {"cache_key"}
    assert issubclass(skyloom_core.CompilationFailed, skyloom_core.SkyloomCoreError)
    assert issubclass(skyloom_core.ValidationFailed, skyloom_core.SkyloomCoreError)
