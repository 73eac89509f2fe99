"""The memoization key of a task run, defined once for the SDK's local cache and datacatalog.

For a task ``T`` with cache version ``V`` and inputs ``I``:

- dataset: project and domain of ``T.id``, name ``skyloom_task-<T.id.name>``;
- dataset version: ``<V>-<8 hex of hash(T's input variables)>-<8 hex of hash(T's output
  variables)>``: the task's signature, so changing an input or output type starts a new dataset;
- tag: ``skyloom_cached-<hash_literal_map(I, ignored=ignored inputs)>``.

Ignored inputs drop out of the tag only; the signature hash always covers every declared
input, so adding or retyping even an ignored input is a new dataset version. Literals that carry
a ``hash`` contribute that hash instead of their content (see ``skyloom_core.hashing``).
"""

from __future__ import annotations

from dataclasses import dataclass

from skyloom_core.errors import CacheKeyError
from skyloom_core.hashing import hash_literal_map, hash_variable_map
from skyloom_idl.core import identifier_pb2, literals_pb2, tasks_pb2

DATASET_PREFIX = "skyloom_task-"
TAG_PREFIX = "skyloom_cached-"


@dataclass(frozen=True, slots=True)
class CacheKey:
    """Where a task run's outputs live in the catalog: a dataset version and a tag in it."""

    project: str
    domain: str
    name: str
    version: str
    tag: str

    def dataset_id(self) -> identifier_pb2.Identifier:
        """The dataset as a datacatalog Identifier (resource type DATASET)."""
        return identifier_pb2.Identifier(
            resource_type=identifier_pb2.ResourceType.RESOURCE_TYPE_DATASET,
            project=self.project,
            domain=self.domain,
            name=self.name,
            version=self.version,
        )


def cache_key(
    task: tasks_pb2.TaskTemplate,
    inputs: literals_pb2.LiteralMap,
    *,
    cache: tasks_pb2.CacheConfig | None = None,
) -> CacheKey:
    """The cache key of running ``task`` on ``inputs``.

    ``cache`` replaces the task's own ``metadata.cache`` (a node's override). Raises
    ``CacheKeyError`` when the effective cache config has no version: an unversioned cache
    could never be invalidated.
    """
    config = cache if cache is not None else task.metadata.cache
    if not config.version:
        raise CacheKeyError(f"task '{task.id.name}' has no cache version; set one to cache it")
    signature = "-".join(
        (
            config.version,
            hash_variable_map(task.interface.inputs)[:8],
            hash_variable_map(task.interface.outputs)[:8],
        )
    )
    tag = TAG_PREFIX + hash_literal_map(inputs, ignored=frozenset(config.ignored_inputs))
    return CacheKey(
        project=task.id.project,
        domain=task.id.domain,
        name=DATASET_PREFIX + task.id.name,
        version=signature,
        tag=tag,
    )
