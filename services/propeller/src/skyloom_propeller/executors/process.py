"""The ``process`` backend: one OS process per attempt, surviving propeller restarts.

Layout of ``<root>/<attempt id>/``:

==============  ===================================================================
``spec.json``   what to run (argv, env, output prefix, limits); written atomically
``claim``       created with ``O_CREAT|O_EXCL``: whoever creates it launches, nobody else
``process.json`` pid, process-group id and psutil ``create_time`` of the launched process
``stdout.log``  the attempt's output streams (uploaded as its logs when it ends)
``stderr.log``
``exit``        the task's exit status, written by the ``sh`` wrapper when it returns
``aborted``     the reason, when the engine aborted the attempt
==============  ===================================================================

At most once: a launch whose ``claim`` exists adopts the attempt instead (this object's, or one a
previous propeller started). The process runs ``sh -c <wrapper> <task argv>`` in a new session
(``start_new_session``), so it outlives propeller and ``abort`` can kill the whole group. Liveness
is pid *plus* create time, so a recycled pid is never mistaken for the attempt. Memory limits are
``RLIMIT_AS`` and CPU limits a CPU-affinity mask, set in ``preexec_fn`` where the OS allows.

Completion comes from the task's own files (``outputs.pb``/``futures.pb``/``error.pb`` under the
output prefix, read through the blob store); a process that is gone without one is a retryable
SYSTEM failure whose message carries the exit status and the end of stderr.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil

from skyloom_core.blob.errors import NotFound
from skyloom_core.blob.store import BlobStore
from skyloom_idl.core import execution_pb2, tasks_pb2
from skyloom_propeller.commands import LaunchAttempt
from skyloom_propeller.executors.base import cpu_cores, memory_bytes, render_args
from skyloom_propeller.view import AttemptPhase, AttemptStatus

SYSTEM = execution_pb2.ExecutionError.ERROR_KIND_SYSTEM
_WRAPPER = (
    'd="$1"; shift; "$@"; c=$?; echo "$c" > "$d/exit.tmp" && mv "$d/exit.tmp" "$d/exit"; exit "$c"'
)
_RES = tasks_pb2.Resources
# A claim with no process.json after this long means the launcher died between the two.
CLAIM_GRACE_S = 30.0
# Popen objects of attempts whose backend object was closed: polled (reaped) on later launches,
# so they neither linger as zombies nor warn when garbage-collected while running.
_DETACHED: list[subprocess.Popen[bytes]] = []


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _limits(memory: int | None, cores: float | None) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        import resource

        if memory is not None:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if cores is not None and hasattr(os, "sched_setaffinity"):
            with contextlib.suppress(OSError):
                allowed = sorted(os.sched_getaffinity(0))
                os.sched_setaffinity(0, allowed[: max(1, math.ceil(cores))])

    return apply


def _limit(resources: tasks_pb2.Resources, name: int) -> str:
    for entries in (resources.limits, resources.requests):
        for e in entries:
            if e.name == name:
                return e.value
    return ""


class ProcessExecutor:
    """See the module docstring. ``env`` is the base environment of every attempt (PATH must
    find ``skyloom-execute``); ``bin_dirs`` are searched first for the task's command."""

    backend = "process"

    def __init__(
        self,
        root: Path,
        store: BlobStore,
        *,
        env: Mapping[str, str] | None = None,
        bin_dirs: tuple[Path, ...] = (),
    ) -> None:
        self.root = root
        self.store = store
        self.env = dict(env if env is not None else os.environ)
        self.bin_dirs = bin_dirs
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self.spawned: list[str] = []  # attempts this object started (not adopted)
        root.mkdir(parents=True, exist_ok=True)

    def attempt_dir(self, attempt_id: str) -> Path:
        return self.root / attempt_id

    # -- launch / adopt ----------------------------------------------------------------
    async def launch(self, cmd: LaunchAttempt) -> AttemptStatus:
        """Launch ``cmd`` unless its attempt was claimed before; then adopt it."""
        _reap_detached()
        d = self.attempt_dir(cmd.attempt_id)
        d.mkdir(parents=True, exist_ok=True)
        spec = self._spec(cmd)
        if not (d / "claim").exists():
            _atomic_write(d / "spec.json", json.dumps(spec, sort_keys=True).encode())
        try:
            fd = os.open(d / "claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            status = await self.status(cmd.attempt_id)
            assert status is not None  # the claim exists
            return status
        os.close(fd)
        self._spawn(d, spec)
        return AttemptStatus(AttemptPhase.RUNNING, handle=self._handle(d))

    def _spec(self, cmd: LaunchAttempt) -> dict[str, Any]:
        container = cmd.task.container
        argv = render_args([*container.command, *container.args], cmd)
        if argv:
            argv[0] = self._which(argv[0])
        env = {**self.env, **{kv.key: kv.value for kv in container.env}, **dict(cmd.env)}
        return {
            "attempt_id": cmd.attempt_id,
            "argv": argv,
            "env": env,
            "output_prefix": cmd.output_prefix,
            "memory_bytes": memory_bytes(_limit(cmd.resources, _RES.RESOURCE_NAME_MEMORY)),
            "cpu_cores": cpu_cores(_limit(cmd.resources, _RES.RESOURCE_NAME_CPU)),
        }

    def _which(self, name: str) -> str:
        if os.sep in name:
            return name
        path = os.pathsep.join([*map(str, self.bin_dirs), self.env.get("PATH", "")])
        return shutil.which(name, path=path) or name

    def _spawn(self, d: Path, spec: dict[str, Any]) -> None:
        out = open(d / "stdout.log", "ab")  # noqa: SIM115 - handed to the child
        err = open(d / "stderr.log", "ab")  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", _WRAPPER, "skyloom-attempt", str(d), *spec["argv"]],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=spec["env"],
                cwd=d,
                start_new_session=True,
                preexec_fn=_limits(spec["memory_bytes"], spec["cpu_cores"]),
            )
        finally:
            out.close()
            err.close()
        self._children[d.name] = proc
        self.spawned.append(d.name)
        try:
            created = psutil.Process(proc.pid).create_time()
        except psutil.NoSuchProcess:
            created = 0.0  # already gone: status() reads its exit file
        record = {"pid": proc.pid, "pgid": proc.pid, "create_time": created}
        _atomic_write(d / "process.json", json.dumps(record).encode())

    # -- status --------------------------------------------------------------------------
    async def status(self, attempt_id: str) -> AttemptStatus | None:
        d = self.attempt_dir(attempt_id)
        if not (d / "claim").exists():
            return None
        spec = json.loads((d / "spec.json").read_bytes())
        done = await self._result(spec["output_prefix"], d)
        if done is not None:
            return done
        proc = _read_json(d / "process.json")
        if proc is None:
            age = time.time() - (d / "claim").stat().st_mtime
            if age < CLAIM_GRACE_S:
                return AttemptStatus(AttemptPhase.RUNNING)
            return self._lost(d, "LaunchInterrupted", "the launcher stopped before the process")
        child = self._children.get(attempt_id)
        if child is not None and child.poll() is not None:
            del self._children[attempt_id]
        if _alive(proc):
            return AttemptStatus(AttemptPhase.RUNNING, handle=self._handle(d))
        done = await self._result(spec["output_prefix"], d)  # it may have just finished
        if done is not None:
            return done
        if (d / "aborted").exists():
            reason = (d / "aborted").read_text()
            return AttemptStatus(AttemptPhase.ABORTED, error_message=reason, handle=self._handle(d))
        return self._vanished(d, spec)

    async def _result(self, prefix: str, d: Path) -> AttemptStatus | None:
        handle = self._handle(d)
        for name in ("outputs.pb", "futures.pb"):
            uri = f"{prefix}/{name}"
            if await self.store.exists(self.store.key_of(uri)):
                if name == "outputs.pb":
                    return AttemptStatus(AttemptPhase.SUCCEEDED, outputs_uri=uri, handle=handle)
                return AttemptStatus(AttemptPhase.SUCCEEDED, futures_uri=uri, handle=handle)
        uri = f"{prefix}/error.pb"
        try:
            data = await self.store.get_bytes(self.store.key_of(uri))
        except NotFound:
            return None
        doc = execution_pb2.ErrorDocument()
        doc.ParseFromString(data)
        e = doc.error
        spec = _read_json(d / "spec.json") or {}
        if e.code == "MemoryError" and spec.get("memory_bytes"):
            return self._oom(d, spec["memory_bytes"], f"{e.message}", uri)
        return AttemptStatus(
            AttemptPhase.FAILED,
            error_code=e.code,
            error_message=e.message,
            error_kind=e.kind,
            retryable=e.retryable,
            error_uri=uri,
            handle=handle,
        )

    def _vanished(self, d: Path, spec: dict[str, Any]) -> AttemptStatus:
        exit_text = (d / "exit").read_text().strip() if (d / "exit").exists() else ""
        tail = _tail(d / "stderr.log")
        limit = spec.get("memory_bytes")
        if limit and ("MemoryError" in tail or "Cannot allocate memory" in tail):
            return self._oom(d, limit, tail, "")
        if exit_text:
            message = f"the process exited with status {exit_text} without a result\n{tail}"
            return self._lost(d, "ProcessExited", message)
        return self._lost(d, "ProcessVanished", f"the process disappeared without a result\n{tail}")

    def _oom(self, d: Path, limit: int, detail: str, uri: str) -> AttemptStatus:
        """Over its memory limit: a USER error (the same limit would fail again)."""
        message = f"the attempt exceeded its memory limit of {limit} bytes ({detail.strip()})"
        return AttemptStatus(
            AttemptPhase.FAILED, error_code="OOMKilled", error_message=message,
            error_kind=execution_pb2.ExecutionError.ERROR_KIND_USER, retryable=False,
            error_uri=uri, handle=self._handle(d),
        )  # fmt: skip

    def _lost(self, d: Path, code: str, message: str) -> AttemptStatus:
        return AttemptStatus(
            AttemptPhase.FAILED, error_code=code, error_message=message.strip(),
            error_kind=SYSTEM, retryable=True, handle=self._handle(d),
        )  # fmt: skip

    def _handle(self, d: Path) -> str:
        proc = _read_json(d / "process.json")
        return f"pid:{proc['pid']}" if proc else ""

    # -- abort ---------------------------------------------------------------------------
    async def abort(self, attempt_id: str, reason: str) -> None:
        """Kill the attempt's process group (after checking it is still the same process)."""
        d = self.attempt_dir(attempt_id)
        if not (d / "claim").exists():
            return
        if not (d / "aborted").exists():
            _atomic_write(d / "aborted", reason.encode())
        proc = _read_json(d / "process.json")
        if proc is not None and _alive(proc):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc["pgid"], signal.SIGKILL)
        child = self._children.pop(attempt_id, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
            if child.returncode is None:
                _DETACHED.append(child)

    def logs(self, attempt_id: str) -> tuple[Path, Path]:
        d = self.attempt_dir(attempt_id)
        return d / "stdout.log", d / "stderr.log"

    async def upload_logs(self, attempt_id: str) -> tuple[str, ...]:
        """Store the attempt's stdout/stderr as ``<output prefix>/{stdout,stderr}.log`` and
        return their URIs (call once the attempt is terminal; repeating re-uploads)."""
        d = self.attempt_dir(attempt_id)
        spec = _read_json(d / "spec.json")
        if spec is None:
            return ()
        uris = []
        for path in self.logs(attempt_id):
            if path.exists():
                uri = f"{spec['output_prefix']}/{path.name}"
                await self.store.put_file(self.store.key_of(uri), path)
                uris.append(uri)
        return tuple(uris)

    def close(self) -> None:
        """Forget this object's children (they keep running: a new object adopts them)."""
        for proc in self._children.values():
            if proc.poll() is None:
                _DETACHED.append(proc)
        self._children.clear()


def _reap_detached() -> None:
    _DETACHED[:] = [p for p in _DETACHED if p.poll() is None]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    return data


def _alive(proc: Mapping[str, Any]) -> bool:
    try:
        p = psutil.Process(proc["pid"])
        if abs(p.create_time() - proc["create_time"]) > 0.01:
            return False  # the pid was recycled
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
