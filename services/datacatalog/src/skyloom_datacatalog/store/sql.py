"""SQL building blocks: numbered parameters, filter expressions, keyset page conditions.

No value is ever interpolated into SQL: values become ``$n`` parameters and column names come
from the fixed allow-lists below (validation has already refused filters that do not apply).

Filter semantics (``SinglePropertyFilter``), per property:

- ``artifact_id``, dataset ``project``/``domain``/``name``/``version``: the column compared
  with the value (``=``, ``<>``, or starts with);
- tag: EQUALS/PREFIX — the artifact has a tag equal to / starting with the value;
  NOT_EQUALS — the artifact has no tag equal to the value;
- partition: the artifact has partition ``key`` and its value compares as asked (an artifact
  without that key never matches).
"""

from __future__ import annotations

from collections.abc import Sequence

from skyloom_datacatalog.pagination import PageRequest
from skyloom_idl.datacatalog import datacatalog_pb2 as dc

__all__ = ["Params", "artifact_filters", "dataset_filters", "keyset"]

Op = dc.SinglePropertyFilter.ComparisonOperator
_DATASET_COLUMNS = {"project": "project", "name": "name", "domain": "domain", "version": "version"}


class Params:
    """Collects query arguments and hands out their ``$n`` placeholders."""

    def __init__(self, *initial: object) -> None:
        self.values: list[object] = list(initial)

    def add(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _compare(column: str, op: int, placeholder: str) -> str:
    if op == Op.COMPARISON_OPERATOR_NOT_EQUALS:
        return f"{column} <> {placeholder}"
    if op == Op.COMPARISON_OPERATOR_PREFIX:
        return f"starts_with({column}, {placeholder})"
    return f"{column} = {placeholder}"


def artifact_filters(filters: Sequence[dc.SinglePropertyFilter], p: Params, a: str) -> list[str]:
    """WHERE conditions on artifacts aliased ``a``."""
    out: list[str] = []
    same = f"x.dataset_id = {a}.dataset_id AND x.artifact_id = {a}.artifact_id"
    for f in filters:
        kind = f.WhichOneof("property_filter")
        if kind == "artifact_filter":
            out.append(
                _compare(f"{a}.artifact_id", f.operator, p.add(f.artifact_filter.artifact_id))
            )
        elif kind == "tag_filter":
            value = p.add(f.tag_filter.tag_name)
            if f.operator == Op.COMPARISON_OPERATOR_NOT_EQUALS:
                out.append(
                    f"NOT EXISTS (SELECT 1 FROM tags x WHERE {same} AND x.tag_name = {value})"
                )
            else:
                cond = _compare("x.tag_name", f.operator, value)
                out.append(f"EXISTS (SELECT 1 FROM tags x WHERE {same} AND {cond})")
        elif kind == "partition_filter":
            kv = f.partition_filter.key_val
            key = p.add(kv.key)
            cond = _compare("x.value", f.operator, p.add(kv.value))
            out.append(
                f"EXISTS (SELECT 1 FROM partitions x WHERE {same} AND x.key = {key} AND {cond})"
            )
        else:  # pragma: no cover - refused by validation
            raise ValueError(f"{kind} does not apply to artifacts")
    return out


def dataset_filters(filters: Sequence[dc.SinglePropertyFilter], p: Params, d: str) -> list[str]:
    """WHERE conditions on datasets aliased ``d``."""
    out: list[str] = []
    for f in filters:
        prop = f.dataset_filter.WhichOneof("property")
        if f.WhichOneof("property_filter") != "dataset_filter" or prop is None:
            raise ValueError("only dataset filters apply to datasets")  # pragma: no cover
        column = f"{d}.{_DATASET_COLUMNS[prop]}"
        out.append(_compare(column, f.operator, p.add(getattr(f.dataset_filter, prop))))
    return out


def keyset(page: PageRequest, p: Params, created: str, seq: str) -> tuple[str | None, str]:
    """The condition selecting rows after the page's cursor (or ``None``) and the ORDER BY +
    LIMIT clause; one extra row is read to know whether another page follows."""
    direction = "ASC" if page.ascending else "DESC"
    condition = None
    if page.after is not None:
        cmp = ">" if page.ascending else "<"
        at, after = p.add(page.after.created_at), p.add(page.after.seq)
        condition = f"({created}, {seq}) {cmp} ({at}, {after})"
    limit = p.add(page.limit + 1)
    return condition, f"ORDER BY {created} {direction}, {seq} {direction} LIMIT {limit}"
