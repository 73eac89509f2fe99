"""The round journal: a round's commands as bytes, persisted with its state.

Persisting only the state leaves a window: a crash after the state is saved but before its
commands ran loses writes the state already relies on (an ``inputs.pb`` a launch will read, an
``outputs.pb`` a SUCCEEDED node points at). So the shell saves the new state *and* its commands
in one write, executes the commands, then marks them done; a restarted shell first re-executes
pending commands (they are idempotent) and only then evaluates. ``pack``/``unpack`` round-trip
every command exactly: protobuf fields as their serialized bytes with the message's full name.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from skyloom_propeller import commands as c

_TYPES: dict[str, type[Any]] = {
    t.__name__: t
    for t in (
        c.Fetch, c.WriteLiterals, c.WriteBlob, c.LaunchAttempt, c.AbortAttempt, c.CacheLookup,
        c.CachePut, c.Reserve, c.ReleaseReservation, c.EmitEvent, c.ScheduleWake,
        c.CreateChildExecution, c.AbortChildExecution, c.WatchSignal, c.LookupRecovery,
    )
}  # fmt: skip


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        data = value.SerializeToString(deterministic=True)
        return {"$pb": value.DESCRIPTOR.full_name, "b64": base64.b64encode(data).decode()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$pb" in value:
        desc = descriptor_pool.Default().FindMessageTypeByName(value["$pb"])
        msg: Message = message_factory.GetMessageClass(desc)()
        msg.ParseFromString(base64.b64decode(value["b64"]))
        return msg
    if isinstance(value, dict) and "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def pack(commands: list[c.Command]) -> bytes:
    """Serialize ``commands`` (order kept)."""
    items = [
        {
            "type": type(cmd).__name__,
            **{f.name: _encode(getattr(cmd, f.name)) for f in dataclasses.fields(cmd)},
        }
        for cmd in commands
    ]
    return json.dumps(items, separators=(",", ":")).encode()


def unpack(data: bytes) -> list[c.Command]:
    """The inverse of ``pack``; ``ValueError`` for an unknown command type."""
    out: list[c.Command] = []
    for item in json.loads(data):
        kind = _TYPES.get(item.pop("type"))
        if kind is None:
            raise ValueError("unknown command type in the journal")
        out.append(kind(**{k: _decode(v) for k, v in item.items()}))
    return out


def record(state: bytes, commands: list[c.Command]) -> bytes:
    """One round's durable record: the new state and the commands still to execute."""
    return len(state).to_bytes(8, "big") + state + pack(commands)


def read_record(data: bytes) -> tuple[bytes, list[c.Command]]:
    """The state bytes and pending commands of a ``record``."""
    n = int.from_bytes(data[:8], "big")
    return data[8 : 8 + n], unpack(data[8 + n :])
