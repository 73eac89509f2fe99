"""How the execution half plugs into admin's app (``app.py``, ``servicer.py``).

- The RPC mixins' ``_init_rpcs(self, ctx)`` hooks call :func:`plane_for`, which builds one
  :class:`ExecutionPlane` per :class:`AppContext` (cached while someone holds it) and sets it
  as ``servicer.execution_plane``.
- ``app.py`` calls the package-level ``components(ctx)`` (re-exported by
  ``skyloom_admin.executions``): the event consumer, the notification dispatcher and the
  executions-by-phase sampler, built from the same plane. The outbox relay is admin's one
  shared relay (work items go through ``ctx.outbox``'s table).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from skyloom_admin.context import AppContext
from skyloom_admin.executions.entities import ManagerAttributes, PostgresEntities
from skyloom_admin.executions.manager import ExecutionConfig
from skyloom_admin.executions.plane import ExecutionPlane, build_execution_plane
from skyloom_common.lifecycle import Component

__all__ = ["components", "plane_for"]

_PLANES: weakref.WeakValueDictionary[int, ExecutionPlane] = weakref.WeakValueDictionary()


def plane_for(ctx: AppContext) -> ExecutionPlane:
    """The execution plane of ``ctx`` (built on first use)."""
    plane = _PLANES.get(id(ctx))
    if plane is not None and plane.owner is ctx:
        return plane
    if ctx.data is None:
        from skyloom_common.errors import ConfigError

        raise ConfigError.for_field("blob.prefix", "executions need a blob store for inputs")
    settings = ctx.settings
    plane = build_execution_plane(
        ctx.pool,
        ctx.data,
        schema=settings.admin.schema_name,
        config=ExecutionConfig(
            max_inline_bytes=settings.admin.max_inline_data_bytes,
            work_shards=settings.admin.work_shards,
        ),
        entities=PostgresEntities(),
        attributes=ManagerAttributes(ctx.attributes),
        registry=ctx.runtime.registry,
        allow_private_webhooks=settings.admin.allow_private_webhooks,
    )
    plane.owner = ctx
    _PLANES[id(ctx)] = plane
    return plane


def components(ctx: AppContext) -> Sequence[Component]:
    """The execution half's long-running components for admin's service."""
    return plane_for(ctx).components(ctx.js)
