"""The SeaweedFS harness itself (skyloom_testing.s3_server), as the sandbox will use it.

Kept here, next to the blob tests that depend on it; each test starts its own server (~1 s).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from skyloom_testing.s3_server import SeaweedS3Server, s3_client

pytestmark = pytest.mark.integration


def _gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_stop_leaves_no_process_sockets_or_port(tmp_path: Path) -> None:
    server = SeaweedS3Server(tmp_path / "weed")
    try:
        creds = server.start()
        pid = server.pid
        assert pid is not None
        sockets = [p for p in Path("/tmp").glob("seaweedfs-*.sock") if p in server._sockets]
        assert sockets, "expected weed's Unix sockets while it runs"
    finally:
        server.stop()

    assert _gone(pid)
    assert not [p for p in sockets if p.exists()]
    port = int(creds.endpoint_url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT may linger
        sock.bind(("127.0.0.1", port))  # nothing listens on the S3 port any more
    server.stop()  # idempotent


def test_objects_and_keys_survive_a_restart_on_the_same_dir(tmp_path: Path) -> None:
    server = SeaweedS3Server(tmp_path / "weed")
    try:
        first = server.start()
        client = s3_client(first)
        client.create_bucket(Bucket="keep-me")
        client.put_object(Bucket="keep-me", Key="a/b", Body=b"persisted")
        client.close()
        server.stop()

        second = server.start()
        client = s3_client(second)
        body = client.get_object(Bucket="keep-me", Key="a/b")["Body"].read()
        client.close()
    finally:
        server.stop()

    assert body == b"persisted"
    assert second.access_key_id == first.access_key_id


def test_server_dies_with_a_killed_owner(tmp_path: Path) -> None:
    owner_program = textwrap.dedent(
        """
        import json, sys, time
        from pathlib import Path
        from skyloom_testing.s3_server import SeaweedS3Server
        server = SeaweedS3Server(Path(sys.argv[1]), die_with_parent=True)
        server.start()
        print(json.dumps([server.pid, [str(p) for p in server._sockets]]), flush=True)
        time.sleep(600)
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_program, str(tmp_path / "weed")],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    weed: psutil.Process | None = None
    sockets: list[str] = []
    try:
        assert owner.stdout is not None
        weed_pid, sockets = json.loads(owner.stdout.readline())
        weed = psutil.Process(weed_pid)  # remembers the create time: never kills a reused pid
        assert weed.is_running()
        os.kill(owner.pid, signal.SIGKILL)  # no atexit, no finally: only the kernel can help
        owner.wait(10)

        assert _gone(weed_pid), "weed outlived its owner"
    finally:
        if owner.poll() is None:
            os.killpg(owner.pid, signal.SIGKILL)
            owner.wait(10)
        # weed has its own session: clean up explicitly should the assertion above fail
        if weed is not None and weed.is_running():
            weed.kill()
        if owner.stdout is not None:
            owner.stdout.close()
        for path in sockets:  # a SIGKILLed weed cannot remove its Unix sockets
            Path(path).unlink(missing_ok=True)
