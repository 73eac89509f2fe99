"""Deterministic JSON of what an entity compiles to (for ``skyloom compile`` and golden files)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message


def _dict(msg: Message) -> dict[str, Any]:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def compiled_dict(entity: Any) -> dict[str, Any]:
    """The closure of a workflow (or map), a launch plan's spec with it, or a task's template."""
    kind = getattr(entity, "kind", "")
    if kind == "launch plan":
        return {"launch_plan": entity.spec(), **compiled_dict(entity.workflow)}
    graph = getattr(entity, "graph", None)
    if graph is not None and graph.closure is not None:
        return {"closure": _dict(graph.closure)}
    return {"task": _dict(entity.template)}


def compiled_json(entity: Any) -> str:
    return json.dumps(compiled_dict(entity), indent=2, sort_keys=True) + "\n"
