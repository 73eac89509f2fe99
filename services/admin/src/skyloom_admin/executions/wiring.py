"""How the execution half plugs into admin's app (``app.py``).

``app.py`` builds one :class:`ExecutionPlane` per admin instance with :func:`build_plane`,
hands it to the servicer (the execution RPC mixins read ``self.execution_plane``) and runs
``plane.components(js)``: the event consumer, the notification dispatcher and the
executions-by-phase sampler. The outbox relay is admin's one shared relay (work items go
through ``ctx.outbox``'s table).
"""

from __future__ import annotations

from skyloom_admin.context import AppContext
from skyloom_admin.executions.entities import ManagerAttributes, PostgresEntities
from skyloom_admin.executions.manager import ExecutionConfig
from skyloom_admin.executions.plane import ExecutionPlane, build_execution_plane
from skyloom_common.errors import ConfigError

__all__ = ["build_plane"]


def build_plane(ctx: AppContext) -> ExecutionPlane:
    """The execution plane of the admin instance ``ctx``; executions need a blob store."""
    if ctx.data is None:
        raise ConfigError.for_field("blob.prefix", "executions need a blob store for inputs")
    settings = ctx.settings
    return build_execution_plane(
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
