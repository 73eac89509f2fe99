"""Stable hashing: canonical, order-independent, pinned by golden digests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from google.protobuf import struct_pb2, timestamp_pb2

from skyloom_core import build as t
from skyloom_core import build_graph as g
from skyloom_core.hashing import hash_literal, hash_literal_map, hash_variable_map
from skyloom_idl.core import literals_pb2, types_pb2


def sample() -> literals_pb2.LiteralMap:
    """A map touching every kind of literal the encoding handles."""
    generic = struct_pb2.Struct()
    generic.update({"b": [1, "two", None, True], "a": {"z": 1.5, "y": False}})
    dt = literals_pb2.Primitive(datetime=timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=5))
    df_type = t.dataframe_type("parquet", {"a": t.INT}).structured_dataset_type
    df = literals_pb2.StructuredDataset(
        uri="s3://b/df",
        metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=df_type),
    )
    return t.literal_map(
        {
            "i": t.int_literal(-42),
            "f": t.float_literal(0.1),
            "s": t.str_literal("héllo"),
            "b": t.bool_literal(True),
            "n": t.none_literal(),
            "dt": t.primitive_literal(dt),
            "xs": t.list_literal([t.int_literal(1), t.int_literal(2)]),
            "m": t.map_literal({"k2": t.str_literal("v2"), "k1": t.str_literal("v1")}),
            "file": t.blob_literal("s3://b/raw/abc.csv", "csv", content_hash="sha256:feed"),
            "dir": t.blob_literal("s3://b/dir/", "", multipart=True),
            "bin": t.scalar_literal(
                literals_pb2.Scalar(binary=literals_pb2.Binary(value=b"\x00\x01", tag="pickle"))
            ),
            "df": t.scalar_literal(literals_pb2.Scalar(structured_dataset=df)),
            "g": t.scalar_literal(literals_pb2.Scalar(generic=generic)),
            "e": t.scalar_literal(literals_pb2.Scalar(enum_value="red")),
            "u": t.scalar_literal(
                literals_pb2.Scalar(union=literals_pb2.Union(value=t.int_literal(1), type=t.INT))
            ),
        }
    )


# Pinned: a change here means every cache key in the world changes. Bump the encoding
# version (hashing._MAP_PREFIX) and write an ADR instead of editing these.
GOLDEN_SAMPLE = "f0c9983477bd2d02e7a98c7b9232e8fa5177f05932ee04b4cc5399ced499d012"
GOLDEN_EMPTY = "b3b3c70b8d313d845a97907814e4467cceb456d5ceb60e119dcf454b38aab1ef"
GOLDEN_INTERFACE = "953b13bb69e75912497ac9508f358646af77e39b38baad3a2ad17a18fa378987"


def test_golden_digests() -> None:
    assert hash_literal_map(sample()) == GOLDEN_SAMPLE
    assert hash_literal_map(literals_pb2.LiteralMap()) == GOLDEN_EMPTY
    vm = g.variable_map({"x": t.INT, "xs": t.list_type(t.optional_type(t.STR))})
    assert hash_variable_map(vm) == GOLDEN_INTERFACE


def test_map_order_does_not_matter() -> None:
    a = t.literal_map({"x": t.int_literal(1), "y": t.int_literal(2)})
    b = literals_pb2.LiteralMap()
    b.literals["y"].CopyFrom(t.int_literal(2))
    b.literals["x"].CopyFrom(t.int_literal(1))
    assert hash_literal_map(a) == hash_literal_map(b)
    c = t.literal_map({"x": t.int_literal(2), "y": t.int_literal(1)})
    assert hash_literal_map(a) != hash_literal_map(c)


def test_list_order_and_kind_matter() -> None:
    one_two = t.literal_map({"x": t.list_literal([t.int_literal(1), t.int_literal(2)])})
    two_one = t.literal_map({"x": t.list_literal([t.int_literal(2), t.int_literal(1)])})
    as_str = t.literal_map({"x": t.list_literal([t.str_literal("1"), t.str_literal("2")])})
    assert len({hash_literal_map(m) for m in (one_two, two_one, as_str)}) == 3


def test_ambiguous_concatenations_differ() -> None:
    a = t.literal_map({"x": t.list_literal([t.str_literal("ab"), t.str_literal("c")])})
    b = t.literal_map({"x": t.list_literal([t.str_literal("a"), t.str_literal("bc")])})
    assert hash_literal_map(a) != hash_literal_map(b)


def test_literal_hash_replaces_content() -> None:
    here = t.literal_map({"f": t.blob_literal("s3://one/x.csv", "csv", content_hash="abc")})
    there = t.literal_map({"f": t.blob_literal("file:///tmp/x.csv", "csv", content_hash="abc")})
    changed = t.literal_map({"f": t.blob_literal("s3://one/x.csv", "csv", content_hash="abd")})
    assert hash_literal_map(here) == hash_literal_map(there)
    assert hash_literal_map(here) != hash_literal_map(changed)


def test_ignored_inputs_are_left_out() -> None:
    a = t.literal_map({"x": t.int_literal(1), "seed": t.int_literal(7)})
    b = t.literal_map({"x": t.int_literal(1), "seed": t.int_literal(8)})
    assert hash_literal_map(a) != hash_literal_map(b)
    assert hash_literal_map(a, ignored={"seed"}) == hash_literal_map(b, ignored={"seed"})
    assert hash_literal_map(a, ignored={"seed"}) == hash_literal_map(
        t.literal_map({"x": t.int_literal(1)})
    )


def test_literal_metadata_is_ignored_but_nan_is_stable() -> None:
    plain = t.int_literal(1)
    annotated = t.int_literal(1)
    annotated.metadata["origin"] = "ui"
    assert hash_literal(plain) == hash_literal(annotated)
    assert hash_literal(t.float_literal(float("nan"))) == hash_literal(
        t.float_literal(-float("nan"))
    )
    assert hash_literal(t.float_literal(0.0)) != hash_literal(t.float_literal(-0.0))


def test_interface_hash_ignores_descriptions_and_order_not_types() -> None:
    a = g.variable_map({"x": t.INT, "y": t.STR})
    b = g.variable_map({"y": t.STR, "x": t.INT})
    b.variables["x"].description = "the x"
    assert hash_variable_map(a) == hash_variable_map(b)
    c = g.variable_map({"x": t.INT, "y": t.optional_type(t.STR)})
    assert hash_variable_map(a) != hash_variable_map(c)
    tagged = types_pb2.LiteralType()
    tagged.CopyFrom(t.INT)
    tagged.annotation = "documentation only"
    assert hash_variable_map(g.variable_map({"x": tagged, "y": t.STR})) == hash_variable_map(a)


def test_digests_are_identical_in_a_fresh_interpreter() -> None:
    """Fresh interpreters with different hash seeds (so different dict/set orders) agree."""
    script = textwrap.dedent(
        """
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("h", sys.argv[1])
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        from skyloom_core.hashing import hash_literal_map
        print(hash_literal_map(mod.sample()))
        """
    )
    digests = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script, __file__],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        digests.add(out.stdout.strip())
    assert digests == {hash_literal_map(sample())}
