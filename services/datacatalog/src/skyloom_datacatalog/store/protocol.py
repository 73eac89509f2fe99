"""What the manager needs from storage: :class:`CatalogRepository`, and the plain types it uses.

Messages travel as the generated protobuf classes (they are plain data); the few things that
are not in the contract (a dataset's storage key, a reservation's key, a page of rows) are the
dataclasses below. Every method is one short transaction at most, and safe to retry unless it
says otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from skyloom_datacatalog.pagination import Cursor, PageRequest
from skyloom_idl.datacatalog import cache_pb2
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = [
    "CacheScope",
    "CatalogRepository",
    "Page",
    "ReservationKey",
    "ReservationRow",
    "StoredDataset",
    "TagOutcome",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredDataset:
    """A dataset and its storage key (``pk``), which artifact and tag calls take."""

    pk: int
    dataset: dc.Dataset


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next (``None`` on the last page)."""

    items: list[T]
    next_cursor: Cursor | None


@dataclass(frozen=True, slots=True)
class ReservationKey:
    project: str
    domain: str
    name: str
    version: str
    tag_name: str

    @classmethod
    def of(cls, rid: dc.ReservationID) -> ReservationKey:
        d = rid.dataset_id
        return cls(d.project, d.domain, d.name, d.version, rid.tag_name)


@dataclass(frozen=True, slots=True)
class ReservationRow:
    """A stored reservation; ``expired`` is judged by the database clock at read time."""

    reservation: dc.Reservation
    expired: bool

    @property
    def owner_id(self) -> str:
        return self.reservation.owner_id


@dataclass(frozen=True, slots=True)
class CacheScope:
    """The task-cache datasets of one task, optionally narrowed to one dataset version and/or
    to the results produced by one task version."""

    project: str
    domain: str
    dataset_name: str
    dataset_version: str | None = None
    task_version: str | None = None


class TagOutcome(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"  # already pointed at that artifact
    MOVED = "moved"  # overwrite re-pointed it
    CONFLICT = "conflict"  # points elsewhere and overwrite was not asked for
    NO_ARTIFACT = "no_artifact"


class CatalogRepository(Protocol):
    """Storage of datasets, artifacts, tags, partitions and reservations."""

    # datasets
    async def create_dataset(self, dataset: dc.Dataset) -> bool:
        """Insert; ``False`` if a dataset with that id exists already."""
        ...

    async def get_dataset(self, dataset_id: dc.DatasetID) -> StoredDataset | None: ...

    async def list_datasets(
        self, filters: Sequence[dc.SinglePropertyFilter], page: PageRequest
    ) -> Page[dc.Dataset]: ...

    # artifacts and tags
    async def create_artifact(self, dataset: StoredDataset, artifact: dc.Artifact) -> bool:
        """Insert with its partitions; ``False`` if the id is taken in the dataset."""
        ...

    async def get_artifact(
        self, dataset: StoredDataset, artifact_id: str
    ) -> dc.Artifact | None: ...

    async def lookup_tag(self, dataset_id: dc.DatasetID, tag_name: str) -> dc.Artifact | None:
        """The cache lookup: dataset and tag resolved in one round trip."""
        ...

    async def list_artifacts(
        self,
        dataset: StoredDataset,
        filters: Sequence[dc.SinglePropertyFilter],
        page: PageRequest,
    ) -> Page[dc.Artifact]: ...

    async def add_tag(
        self, dataset: StoredDataset, tag_name: str, artifact_id: str, *, overwrite: bool
    ) -> TagOutcome: ...

    # reservations
    async def get_reservation(self, key: ReservationKey) -> ReservationRow | None: ...

    async def insert_reservation(
        self, key: ReservationKey, owner_id: str, heartbeat: float, ttl: float
    ) -> ReservationRow | None:
        """``INSERT … ON CONFLICT DO NOTHING``: the new row, or ``None`` if one exists."""
        ...

    async def update_reservation(
        self, key: ReservationKey, owner_id: str, heartbeat: float, ttl: float
    ) -> ReservationRow | None:
        """Take or extend: ``UPDATE … WHERE expires_at <= now() OR owner_id = owner``;
        ``None`` if someone else holds an unexpired reservation (or it is gone)."""
        ...

    async def delete_reservation(self, key: ReservationKey, owner_id: str) -> bool: ...

    async def count_live_reservations(self) -> int: ...

    # cache management
    async def list_cache_entries(
        self, scope: CacheScope, page: PageRequest
    ) -> Page[cache_pb2.CacheEntry]: ...

    async def evict_entry(self, dataset_id: dc.DatasetID, tag_name: str) -> bool:
        """Delete the tag (and its artifact once no tag points at it); ``False`` if absent."""
        ...

    async def evict_entries(self, scope: CacheScope) -> int:
        """Delete every tag in ``scope`` (and artifacts left untagged); how many tags."""
        ...
