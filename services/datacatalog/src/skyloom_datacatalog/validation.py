"""Request validation: every check the servicer runs before the manager sees a request.

Each ``check_*`` function collects every problem of one request, with its field path
(``artifact.data[1].name``), and raises one :class:`InvalidArgument`; a request that passes is
safe to store (names cannot carry ``..``, ``/``, NUL, control or bidi characters; free text
cannot carry NUL or control characters, which Postgres ``text``/``jsonb`` would refuse).
Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from skyloom_common.errors import FieldViolation, InvalidArgument
from skyloom_core import names
from skyloom_core.errors import Violation
from skyloom_core.sizes import DEFAULT_MAX_DEPTH, literal_depth
from skyloom_idl.core import identifier_pb2
from skyloom_idl.datacatalog import cache_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = [
    "MAX_METADATA_ENTRIES",
    "MAX_TEXT",
    "check_add_tag",
    "check_create_artifact",
    "check_create_dataset",
    "check_dataset_id",
    "check_evict_entry",
    "check_evict_version",
    "check_get_artifact",
    "check_list_artifacts",
    "check_list_cache_entries",
    "check_list_datasets",
    "check_release",
    "check_reservation",
]

MAX_TEXT = 1024
MAX_METADATA_ENTRIES = 64
MAX_PARTITIONS = 64

Op = dc.SinglePropertyFilter.ComparisonOperator
_OPERATORS = frozenset(Op.values())
_SORT_KEYS = frozenset(dc.PaginationOptions.SortKey.values())
_SORT_ORDERS = frozenset(dc.PaginationOptions.SortOrder.values())
_ARTIFACT_FILTERS = frozenset({"tag_filter", "partition_filter", "artifact_filter"})
_DATASET_FILTERS = frozenset({"dataset_filter"})


def _fv(violations: Iterable[Violation]) -> list[FieldViolation]:
    return [FieldViolation(v.field_path, v.message) for v in violations]


def _raise(what: str, violations: Sequence[FieldViolation]) -> None:
    if violations:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise InvalidArgument(
            f"invalid {what}: {first.field or 'request'}: {first.description}{more}",
            violations=violations,
        )


def text_violations(
    value: str, path: str, *, max_len: int = MAX_TEXT, required: bool = False
) -> list[FieldViolation]:
    """Free text (a partition value, a metadata value, a filter operand)."""
    if not value:
        return [FieldViolation(path, "must not be empty")] if required else []
    if len(value) > max_len:
        return [FieldViolation(path, f"is {len(value)} characters long, over {max_len}")]
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return [FieldViolation(path, f"contains a control character (U+{ord(ch):04X})")]
    return []


# Fast paths for the common, plainly valid value: each accepts only what the matching
# skyloom_core.names rule accepts too (checked by tests), so the per-character scan there runs
# only for values that may be wrong — it was half the CPU of a cache lookup.
_PLAIN_DNS = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}")
_PLAIN_VERSION = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9_.\-+]{0,127}")


def _plain(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.fullmatch(value) is not None and ".." not in value


def _name(value: str, path: str) -> list[FieldViolation]:
    return [] if _plain(_PLAIN_NAME, value) else _fv(names.validate_name(value, path))


def _dns(
    value: str, path: str, validate: Callable[[str, str], list[Violation]]
) -> list[FieldViolation]:
    return [] if _plain(_PLAIN_DNS, value) else _fv(validate(value, path))


def _version(value: str, path: str) -> list[FieldViolation]:
    return [] if _plain(_PLAIN_VERSION, value) else _fv(names.validate_version(value, path))


def dataset_id_violations(dataset: dc.DatasetID, path: str) -> list[FieldViolation]:
    """project and domain are DNS labels (≤63), name a name (≤255), version a version."""
    out = _dns(dataset.project, f"{path}.project", names.validate_project)
    out += _dns(dataset.domain, f"{path}.domain", names.validate_domain)
    out += _name(dataset.name, f"{path}.name")
    out += _version(dataset.version, f"{path}.version")
    return out


def _task_violations(task: identifier_pb2.NamedEntityIdentifier, path: str) -> list[FieldViolation]:
    out = _dns(task.project, f"{path}.project", names.validate_project)
    out += _dns(task.domain, f"{path}.domain", names.validate_domain)
    out += _name(task.name, f"{path}.name")
    return out


def _metadata_violations(metadata: dc.Metadata, path: str) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    if len(metadata.key_map) > MAX_METADATA_ENTRIES:
        out.append(FieldViolation(path, f"has over {MAX_METADATA_ENTRIES} entries"))
    for key in sorted(metadata.key_map):
        out += (
            _name(key, f"{path}.key_map[{key!r}]")
            if key
            else [FieldViolation(f"{path}.key_map", "keys must not be empty")]
        )
        out += text_violations(metadata.key_map[key], f"{path}.key_map[{key!r}]")
    return out


def _pagination_violations(page: dc.PaginationOptions, path: str) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    if page.sort_key not in _SORT_KEYS:
        out.append(FieldViolation(f"{path}.sort_key", f"unknown sort key {page.sort_key}"))
    if page.sort_order not in _SORT_ORDERS:
        out.append(FieldViolation(f"{path}.sort_order", f"unknown sort order {page.sort_order}"))
    out += text_violations(page.token, f"{path}.token", max_len=512)
    return out


def _filter_violations(
    expression: dc.FilterExpression, path: str, allowed: frozenset[str], entity: str
) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    for i, single in enumerate(expression.filters):
        where = f"{path}.filters[{i}]"
        kind = single.WhichOneof("property_filter")
        if kind is None:
            out.append(FieldViolation(where, "sets no property filter"))
            continue
        if kind not in allowed:
            out.append(FieldViolation(where, f"a {kind} does not apply to {entity}"))
            continue
        if single.operator not in _OPERATORS:
            out.append(FieldViolation(f"{where}.operator", f"unknown operator {single.operator}"))
        if kind == "tag_filter":
            out += text_violations(single.tag_filter.tag_name, f"{where}.tag_filter.tag_name")
        elif kind == "artifact_filter":
            out += text_violations(
                single.artifact_filter.artifact_id, f"{where}.artifact_filter.artifact_id"
            )
        elif kind == "partition_filter":
            kv = single.partition_filter.key_val
            out += _name(kv.key, f"{where}.partition_filter.key_val.key")
            out += text_violations(kv.value, f"{where}.partition_filter.key_val.value")
        else:
            prop = single.dataset_filter.WhichOneof("property")
            if prop is None:
                out.append(FieldViolation(f"{where}.dataset_filter", "sets no property"))
            else:
                value = getattr(single.dataset_filter, prop)
                out += text_violations(value, f"{where}.dataset_filter.{prop}")
    return out


def check_dataset_id(dataset: dc.DatasetID, path: str = "dataset") -> None:
    _raise("dataset id", dataset_id_violations(dataset, path))


def check_create_dataset(request: dc.CreateDatasetRequest) -> None:
    ds = request.dataset
    out = dataset_id_violations(ds.id, "dataset.id")
    out += _metadata_violations(ds.metadata, "dataset.metadata")
    seen: set[str] = set()
    for i, key in enumerate(ds.partition_keys):
        out += _name(key, f"dataset.partition_keys[{i}]")
        if key in seen:
            out.append(FieldViolation(f"dataset.partition_keys[{i}]", f"duplicate key {key!r}"))
        seen.add(key)
    _raise("dataset", out)


def check_list_datasets(request: dc.ListDatasetsRequest) -> None:
    out = _filter_violations(request.filter, "filter", _DATASET_FILTERS, "datasets")
    out += _pagination_violations(request.pagination, "pagination")
    _raise("list request", out)


def check_create_artifact(request: dc.CreateArtifactRequest, *, max_inline_bytes: int) -> None:
    """Names, partitions, metadata, the artifact's inline size and the nesting of its values."""
    art = request.artifact
    out = dataset_id_violations(art.dataset, "artifact.dataset")
    out += _name(art.id, "artifact.id")
    if not art.data:
        out.append(FieldViolation("artifact.data", "an artifact needs at least one value"))
    names_seen: set[str] = set()
    size = 0
    for i, item in enumerate(art.data):
        out += _name(item.name, f"artifact.data[{i}].name")
        if item.name in names_seen:
            out.append(FieldViolation(f"artifact.data[{i}].name", f"duplicate {item.name!r}"))
        names_seen.add(item.name)
        if item.value.WhichOneof("value") is None:
            out.append(FieldViolation(f"artifact.data[{i}].value", "holds no value"))
        depth = literal_depth(item.value)
        if depth > DEFAULT_MAX_DEPTH:
            out.append(
                FieldViolation(
                    f"artifact.data[{i}].value",
                    f"nests {depth} levels deep, over the limit of {DEFAULT_MAX_DEPTH}",
                )
            )
        size += item.value.ByteSize()
    if size > max_inline_bytes:
        out.append(
            FieldViolation(
                "artifact.data",
                f"inline values are {size} bytes, over the limit of {max_inline_bytes} bytes; "
                "write large values to the blob store and pass a Blob literal with its URI",
            )
        )
    out += _metadata_violations(art.metadata, "artifact.metadata")
    if len(art.partitions) > MAX_PARTITIONS:
        out.append(FieldViolation("artifact.partitions", f"over {MAX_PARTITIONS} partitions"))
    keys: set[str] = set()
    for i, part in enumerate(art.partitions):
        out += _name(part.key, f"artifact.partitions[{i}].key")
        out += text_violations(part.value, f"artifact.partitions[{i}].value", required=True)
        if part.key in keys:
            out.append(FieldViolation(f"artifact.partitions[{i}].key", f"duplicate {part.key!r}"))
        keys.add(part.key)
    _raise("artifact", out)


def check_get_artifact(request: dc.GetArtifactRequest) -> None:
    out = dataset_id_violations(request.dataset, "dataset")
    handle = request.WhichOneof("query_handle")
    if handle is None:
        out.append(FieldViolation("artifact_id", "set artifact_id or tag_name"))
    else:
        out += _name(getattr(request, handle), handle)
    _raise("artifact query", out)


def check_list_artifacts(request: dc.ListArtifactsRequest) -> None:
    out = dataset_id_violations(request.dataset, "dataset")
    out += _filter_violations(request.filter, "filter", _ARTIFACT_FILTERS, "artifacts")
    out += _pagination_violations(request.pagination, "pagination")
    _raise("list request", out)


def check_add_tag(request: dc.AddTagRequest) -> None:
    out = dataset_id_violations(request.tag.dataset, "tag.dataset")
    out += _name(request.tag.name, "tag.name")
    out += _name(request.tag.artifact_id, "tag.artifact_id")
    _raise("tag", out)


def _reservation_id(rid: dc.ReservationID, path: str) -> list[FieldViolation]:
    return dataset_id_violations(rid.dataset_id, f"{path}.dataset_id") + _name(
        rid.tag_name, f"{path}.tag_name"
    )


def check_reservation(request: dc.GetOrExtendReservationRequest) -> None:
    out = _reservation_id(request.reservation_id, "reservation_id")
    out += _name(request.owner_id, "owner_id")
    hb = request.heartbeat_interval
    if hb.seconds < 0 or hb.nanos < 0:
        out.append(FieldViolation("heartbeat_interval", "must not be negative"))
    _raise("reservation request", out)


def check_release(request: dc.ReleaseReservationRequest) -> None:
    out = _reservation_id(request.reservation_id, "reservation_id")
    out += _name(request.owner_id, "owner_id")
    _raise("release request", out)


def check_list_cache_entries(request: cache_pb2.ListCacheEntriesRequest) -> None:
    out = _task_violations(request.task, "task")
    out += _optional(request.dataset_version, "dataset_version", names.validate_version)
    out += _optional(request.task_version, "task_version", names.validate_version)
    out += _pagination_violations(request.pagination, "pagination")
    _raise("cache listing", out)


def check_evict_entry(request: cache_pb2.EvictCacheEntryRequest) -> None:
    out = dataset_id_violations(request.dataset, "dataset")
    out += _name(request.tag_name, "tag_name")
    _raise("eviction", out)


def check_evict_version(request: cache_pb2.EvictCacheVersionRequest) -> None:
    out = _task_violations(request.task, "task")
    chosen = [bool(request.dataset_version), bool(request.task_version), request.all_versions]
    if sum(chosen) != 1:
        out.append(
            FieldViolation(
                "dataset_version", "set exactly one of dataset_version, task_version, all_versions"
            )
        )
    out += _optional(request.dataset_version, "dataset_version", names.validate_version)
    out += _optional(request.task_version, "task_version", names.validate_version)
    _raise("eviction", out)


def _optional(
    value: str, path: str, validate: Callable[[str, str], list[Violation]]
) -> list[FieldViolation]:
    return _fv(validate(value, path)) if value else []
