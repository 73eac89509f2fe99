"""Database rows to protobuf messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from skyloom_idl.core import literals_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = [
    "artifact_from_row",
    "data_to_bytes",
    "dataset_from_row",
    "metadata_from_json",
    "metadata_to_json",
    "timestamp",
]


def timestamp(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def metadata_to_json(metadata: dc.Metadata) -> str:
    return json.dumps(dict(metadata.key_map), sort_keys=True)


def metadata_from_json(raw: str | None) -> dc.Metadata:
    values: Mapping[str, str] = json.loads(raw) if raw else {}
    return dc.Metadata(key_map=values)


def data_to_bytes(data: list[dc.ArtifactData]) -> bytes:
    """The artifact's values as one serialized ``LiteralMap`` (deterministic bytes)."""
    literals = literals_pb2.LiteralMap()
    for item in data:
        literals.literals[item.name].CopyFrom(item.value)
    return literals.SerializeToString(deterministic=True)


def dataset_id_from_row(row: asyncpg.Record) -> dc.DatasetID:
    return dc.DatasetID(
        project=row["project"],
        domain=row["domain"],
        name=row["name"],
        version=row["version"],
        uuid=str(row["uuid"]),
    )


def dataset_from_row(row: asyncpg.Record) -> dc.Dataset:
    return dc.Dataset(
        id=dataset_id_from_row(row),
        metadata=metadata_from_json(row["metadata"]),
        partition_keys=list(row["partition_keys"]),
    )


def artifact_from_row(row: asyncpg.Record, dataset: dc.DatasetID) -> dc.Artifact:
    """Needs columns artifact_id, data, metadata, created_at, tags (text[]), partitions (jsonb)."""
    literals = literals_pb2.LiteralMap.FromString(row["data"])
    artifact = dc.Artifact(
        id=row["artifact_id"],
        dataset=dataset,
        metadata=metadata_from_json(row["metadata"]),
        created_at=timestamp(row["created_at"]),
    )
    for name in sorted(literals.literals):
        artifact.data.add(name=name).value.CopyFrom(literals.literals[name])
    partitions: Mapping[str, str] = json.loads(row["partitions"]) if row["partitions"] else {}
    for key in sorted(partitions):
        artifact.partitions.add(key=key, value=partitions[key])
    for tag in row["tags"]:
        artifact.tags.add(name=tag, artifact_id=row["artifact_id"], dataset=dataset)
    return artifact
