"""What every admin area is built from: one :class:`AppContext` per running admin.

``app.open_admin`` fills it; the servicer's mixins and the areas' background components
(executions' event consumer, ...) read what they need from it. Areas that build managers of
their own keep them on their mixin (see ``servicer.py``), not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from skyloom_admin.attributes.manager import AttributeManager
from skyloom_admin.projects.manager import ProjectManager
from skyloom_admin.registry.manager import RegistryManager
from skyloom_admin.settings import AdminSettings
from skyloom_admin.tokens.manager import TokenManager
from skyloom_common.outbox import Outbox
from skyloom_common.runtime import ServiceRuntime
from skyloom_core.blob import BlobStore

__all__ = ["AppContext"]


@dataclass
class AppContext:
    """Shared pieces of one admin instance.

    - ``pool``: asyncpg pool whose ``search_path`` is admin's schema;
    - ``nats``/``js``: the NATS connection and its JetStream context (streams provisioned);
    - ``outbox``: enqueue messages in the caller's transaction; one relay publishes them all;
    - ``data``: the blob store at ``blob.prefix`` (inputs/outputs); ``uploads``: the store
      upload locations point into (None when no blob prefix is configured);
    - ``projects``/``registry``/``attributes``/``tokens``: the registry half's managers
      (``registry.get_launch_plan``, ``attributes.effective`` are what executions need).
    """

    settings: AdminSettings
    runtime: ServiceRuntime
    pool: asyncpg.Pool
    nats: NATS
    js: JetStreamContext
    outbox: Outbox
    data: BlobStore | None
    uploads: BlobStore | None
    projects: ProjectManager
    registry: RegistryManager
    attributes: AttributeManager
    tokens: TokenManager
