"""Keys for registered entities, and lookup of a reference among them.

``id_key`` renders an Identifier as ``project/domain/name@version``; the compiler's ``tasks``,
``subworkflows`` and ``launch_plans`` mappings are keyed by it.

Lookup rule (``resolve``): an exact key wins. Otherwise the *empty* fields of the reference are
wildcards: a reference with no project and domain (the SDK running locally) matches an entry
with the same name and version in any project/domain, and one with no version matches any
version. Exactly one entry must match; several are reported as ambiguous, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from skyloom_core.errors import InvalidIdentifier
from skyloom_idl.core import identifier_pb2

T = TypeVar("T")


def id_key(identifier: identifier_pb2.Identifier) -> str:
    """``project/domain/name@version`` (resource type left out)."""
    i = identifier
    return f"{i.project}/{i.domain}/{i.name}@{i.version}"


def parse_id_key(
    key: str,
    resource_type: identifier_pb2.ResourceType.ValueType = (
        identifier_pb2.ResourceType.RESOURCE_TYPE_UNSPECIFIED
    ),
) -> identifier_pb2.Identifier:
    """The inverse of ``id_key``; raises ``InvalidIdentifier`` on a malformed key."""
    path, at, version = key.rpartition("@")
    parts = path.split("/")
    if not at or len(parts) != 3:
        raise InvalidIdentifier(f"{key!r} is not of the form project/domain/name@version")
    project, domain, name = parts
    return identifier_pb2.Identifier(
        resource_type=resource_type, project=project, domain=domain, name=name, version=version
    )


@dataclass(frozen=True, slots=True)
class Resolved(Generic[T]):
    """The outcome of ``resolve``: ``key``/``value`` when exactly one entry matched;
    otherwise ``value`` is None and ``candidates`` lists the keys that matched (0 or ≥2)."""

    key: str
    value: T | None
    candidates: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return self.value is not None


def _matches(ref: identifier_pb2.Identifier, key: str) -> bool:
    try:
        have = parse_id_key(key)
    except InvalidIdentifier:
        return False
    pairs = (
        (ref.project, have.project),
        (ref.domain, have.domain),
        (ref.name, have.name),
        (ref.version, have.version),
    )
    return all(not want or want == got for want, got in pairs)


def resolve(ref: identifier_pb2.Identifier, entries: Mapping[str, T]) -> Resolved[T]:
    """Find ``ref`` among ``entries`` (keyed by ``id_key``) by the rule in the module docstring."""
    key = id_key(ref)
    if key in entries:
        return Resolved(key, entries[key])
    if not ref.name:
        return Resolved(key, None)
    matches = tuple(sorted(k for k in entries if _matches(ref, k)))
    if len(matches) == 1:
        return Resolved(matches[0], entries[matches[0]], matches)
    return Resolved(key, None, matches)
