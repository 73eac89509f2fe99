"""The NATS fixture gives a real JetStream server that keeps its data across SIGKILL + restart."""

import nats
import pytest
from nats.js.api import StreamConfig

from skyloom_testing.nats import NatsServer

pytestmark = pytest.mark.integration


async def test_jetstream_is_enabled_and_syncs_always(nats_server: NatsServer) -> None:
    assert "sync_interval: always" in (nats_server.work_dir / "nats.conf").read_text()
    nc = await nats.connect(nats_server.url)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits.max_storage != 0
    finally:
        await nc.close()


async def test_acknowledged_messages_survive_sigkill_and_restart_on_same_port(
    nats_server: NatsServer,
) -> None:
    port = nats_server.port
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="KEEP", subjects=["keep.>"]))
    for i in range(5):
        await js.publish("keep.x", str(i).encode())
    await nc.close()

    nats_server.kill()
    assert not nats_server.is_running()
    nats_server.start()
    assert nats_server.port == port

    nc = await nats.connect(nats_server.url)
    try:
        info = await nc.jetstream().stream_info("KEEP")
        assert info.state.messages == 5
    finally:
        await nc.close()


def test_each_test_gets_its_own_server(
    nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = NatsServer(tmp_path_factory.mktemp("other"))
    other.start()
    try:
        assert other.port != nats_server.port
        assert other.store_dir != nats_server.store_dir
    finally:
        other.stop()
    assert not other.is_running()
