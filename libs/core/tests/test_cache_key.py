"""The cache key shared by the SDK's local cache and datacatalog."""

from __future__ import annotations

import pytest

from skyloom_core import build as t
from skyloom_core import build_graph as g
from skyloom_core.cache_key import CacheKey, cache_key
from skyloom_core.errors import CacheKeyError
from skyloom_core.hashing import hash_literal_map
from skyloom_idl.core import identifier_pb2, tasks_pb2

TASK = g.task_template(
    "train",
    {"x": t.INT, "seed": t.INT},
    {"o0": t.FLOAT},
    cache_version="1.0",
    ignored_inputs=("seed",),
)
INPUTS = t.literal_map({"x": t.int_literal(3), "seed": t.int_literal(7)})


def test_shape_of_the_key() -> None:
    key = cache_key(TASK, INPUTS)
    assert (key.project, key.domain, key.name) == ("proj", "dev", "skyloom_task-train")
    version, in8, out8 = key.version.split("-")
    assert version == "1.0"
    assert len(in8) == len(out8) == 8
    assert key.tag == "skyloom_cached-" + hash_literal_map(INPUTS, ignored={"seed"})
    assert key.dataset_id() == identifier_pb2.Identifier(
        resource_type=identifier_pb2.RESOURCE_TYPE_DATASET,
        project="proj",
        domain="dev",
        name="skyloom_task-train",
        version=key.version,
    )


def test_golden_key() -> None:
    assert cache_key(TASK, INPUTS) == CacheKey(
        project="proj",
        domain="dev",
        name="skyloom_task-train",
        version="1.0-ab07e410-fba70768",
        tag="skyloom_cached-49c72e43c4b6d95bba4a051d27344e061de0d4079d47236d11d7cbe812a294cf",
    )


def test_ignored_input_does_not_change_the_tag() -> None:
    other_seed = t.literal_map({"x": t.int_literal(3), "seed": t.int_literal(8)})
    other_x = t.literal_map({"x": t.int_literal(4), "seed": t.int_literal(7)})
    assert cache_key(TASK, INPUTS) == cache_key(TASK, other_seed)
    assert cache_key(TASK, INPUTS).tag != cache_key(TASK, other_x).tag


def test_signature_and_version_change_the_dataset_version() -> None:
    retyped = g.task_template(
        "train", {"x": t.FLOAT, "seed": t.INT}, {"o0": t.FLOAT}, cache_version="1.0"
    )
    bumped = g.task_template(
        "train", {"x": t.INT, "seed": t.INT}, {"o0": t.FLOAT}, cache_version="1.1"
    )
    versions = {cache_key(x, INPUTS).version for x in (TASK, retyped, bumped)}
    assert len(versions) == 3


def test_node_override_and_missing_version() -> None:
    override = tasks_pb2.CacheConfig(enabled=True, version="2")
    key = cache_key(TASK, INPUTS, cache=override)
    assert key.version.startswith("2-")
    assert key.tag == "skyloom_cached-" + hash_literal_map(INPUTS)  # override ignores nothing
    with pytest.raises(CacheKeyError, match="no cache version"):
        cache_key(g.task_template("t"), INPUTS)
