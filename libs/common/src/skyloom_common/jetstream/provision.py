"""Make the server's streams and durable consumers match their specs.

- :func:`ensure_stream` creates a missing stream and updates one that differs; when the server
  refuses the update (storage type, retention of a stream with consumers...), it raises
  :class:`StreamConfigError` listing the differences instead of leaving a half-applied config.
- :func:`ensure_consumer` creates a missing consumer. An existing one that differs from its spec
  is handled by an explicit :class:`DriftPolicy`: FAIL (default) raises
  :class:`ConsumerDriftError`, UPDATE edits it in place where the server allows, RECREATE
  deletes and re-creates it.

Both are idempotent and safe to call from every replica at start-up.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo, StreamInfo
from nats.js.errors import APIError, NotFoundError

from skyloom_common.jetstream.errors import ConsumerDriftError, Drift, StreamConfigError
from skyloom_common.jetstream.specs import (
    ConsumerSpec,
    DriftPolicy,
    StreamSpec,
    consumer_drift,
    stream_drift,
)

__all__ = ["Action", "Provisioned", "ensure_consumer", "ensure_stream"]

_log = logging.getLogger(__name__)


class Action(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    RECREATED = "recreated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Provisioned:
    """What provisioning did: ``action``, and the differences it found before acting."""

    name: str
    action: Action
    drifts: tuple[Drift, ...] = ()


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> Provisioned:
    """Create ``spec``'s stream, or update it to the spec; raise if the server refuses."""
    try:
        info: StreamInfo = await js.stream_info(spec.name)
    except NotFoundError:
        try:
            await js.add_stream(spec.to_config())
        except APIError as exc:
            raise StreamConfigError(spec.name, f"cannot create: {exc.description}") from exc
        _log.info("created stream %s", spec.name)
        return Provisioned(spec.name, Action.CREATED)
    drifts = stream_drift(spec, info.config)
    if not drifts:
        return Provisioned(spec.name, Action.UNCHANGED)
    try:
        await js.update_stream(spec.to_config())
    except APIError as exc:
        raise StreamConfigError(
            spec.name, f"server refused the update: {exc.description}", drifts
        ) from exc
    _log.info("updated stream %s: %s", spec.name, "; ".join(map(str, drifts)))
    return Provisioned(spec.name, Action.UPDATED, tuple(drifts))


async def ensure_consumer(
    js: JetStreamContext, spec: ConsumerSpec, *, on_drift: DriftPolicy = DriftPolicy.FAIL
) -> Provisioned:
    """Create ``spec``'s durable pull consumer, or reconcile a drifted one per ``on_drift``."""
    try:
        info: ConsumerInfo = await js.consumer_info(spec.stream, spec.durable)
    except NotFoundError:
        await _add(js, spec, ())
        _log.info("created consumer %s/%s", spec.stream, spec.durable)
        return Provisioned(spec.durable, Action.CREATED)
    drifts = consumer_drift(spec, info.config)
    if not drifts:
        return Provisioned(spec.durable, Action.UNCHANGED)
    summary = "; ".join(map(str, drifts))
    if on_drift is DriftPolicy.FAIL:
        raise ConsumerDriftError(
            spec.stream, spec.durable, drifts, "\n(policy FAIL: change the spec, or use UPDATE)"
        )
    if on_drift is DriftPolicy.UPDATE:
        await _add(js, spec, drifts)
        _log.warning("updated consumer %s/%s in place: %s", spec.stream, spec.durable, summary)
        return Provisioned(spec.durable, Action.UPDATED, tuple(drifts))
    await js.delete_consumer(spec.stream, spec.durable)
    await _add(js, spec, drifts)
    _log.warning("re-created consumer %s/%s: %s", spec.stream, spec.durable, summary)
    return Provisioned(spec.durable, Action.RECREATED, tuple(drifts))


async def _add(
    js: JetStreamContext, spec: ConsumerSpec, drifts: tuple[Drift, ...] | list[Drift]
) -> None:
    # add_consumer on an existing durable is the server's create-or-update: editable fields
    # change, the others are refused with an API error.
    try:
        await js.add_consumer(spec.stream, spec.to_config())
    except APIError as exc:
        if not drifts:
            raise StreamConfigError(
                spec.stream, f"cannot create consumer {spec.durable}: {exc.description}"
            ) from exc
        raise ConsumerDriftError(
            spec.stream,
            spec.durable,
            drifts,
            f"\nthe server refused an in-place update ({exc.description}); use RECREATE",
        ) from exc
