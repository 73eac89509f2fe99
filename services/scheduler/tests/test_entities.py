"""Launch plan changes from SKYLOOM_ENTITIES (revision-guarded) and resync after a reconnect."""

from __future__ import annotations

from datetime import UTC, datetime

import nats
import pytest

from skyloom_common.jetstream import publish
from skyloom_idl.admin import launch_plan_pb2
from skyloom_idl.event import entity_pb2
from skyloom_scheduler import Scheduler
from skyloom_testing.nats import NatsServer

from .conftest import DOMAIN, PROJECT, FakeAdmin, eventually, every_minute, launch_plan, running

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 22, 6, tzinfo=UTC)
Change = entity_pb2.LaunchPlanChanged


def event(lp: launch_plan_pb2.LaunchPlan, change: int, revision: int) -> entity_pb2.EntityEvent:
    return entity_pb2.EntityEvent(
        event_id=f"lp:{PROJECT}:{DOMAIN}:{lp.id.name}:{lp.id.version}:{revision}",
        revision=revision,
        launch_plan=entity_pb2.LaunchPlanChanged(change=change, launch_plan=lp),  # type: ignore[arg-type]
    )


async def active(app: Scheduler) -> dict[str, bool]:
    rows = await app.pool.fetch("SELECT name, active FROM launch_plans")
    return {r["name"]: r["active"] for r in rows}


async def test_entity_events_apply_in_revision_order_and_resync_follows_reconnects(
    postgres_dsn: str, nats_server: NatsServer
) -> None:
    x = launch_plan("x", schedule=every_minute(anchor=NOW), activated_at=NOW)
    y = launch_plan("y", schedule=every_minute(anchor=NOW), activated_at=NOW)
    z = launch_plan("z", schedule=every_minute(anchor=NOW), activated_at=NOW)
    admin = FakeAdmin(active=[x])
    async with running(postgres_dsn, nats_server.url, admin, tick_seconds=60) as app:
        await eventually(lambda: _is(active(app), {"x": True}))
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            subject = f"skyloom.entities.launchplan.{PROJECT}.{DOMAIN}"
            for ev in (
                event(y, Change.CHANGE_ACTIVATED, 5),
                event(y, Change.CHANGE_DEACTIVATED, 4),  # older: ignored
            ):
                await publish(js, subject, ev.SerializeToString(), msg_id=ev.event_id)
            entities = app.consumers[0]
            await eventually(lambda: _true(entities.stats.applied >= 2))
            assert await active(app) == {"x": True, "y": True}
            ev = event(y, Change.CHANGE_DEACTIVATED, 6)
            await publish(js, subject, ev.SerializeToString(), msg_id=ev.event_id)
            await eventually(lambda: _is(active(app), {"x": True, "y": False}))
        finally:
            await nc.close()
        # Admin's truth changes while the scheduler is cut off from NATS; the reconnect resyncs.
        admin.active = [z]
        syncs = app.resync.count
        nats_server.restart()
        await eventually(lambda: _true(app.resync.count > syncs), within=20)
        assert await active(app) == {"x": False, "y": False, "z": True}


async def _is(got: object, want: dict[str, bool]) -> bool:
    return await got == want  # type: ignore[misc]


async def _true(value: bool) -> bool:
    return value
