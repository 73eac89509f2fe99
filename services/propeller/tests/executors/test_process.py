"""The process backend with real ``skyloom-execute`` processes: results, adoption after a
restart (at most one process per attempt, proven by a ledger), abort, lost processes, limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import psutil
import pytest

from skyloom_core.blob import FileStore
from skyloom_idl.core import execution_pb2, literals_pb2, tasks_pb2
from skyloom_propeller.commands import LaunchAttempt
from skyloom_propeller.executors.process import ProcessExecutor
from skyloom_propeller.view import AttemptPhase, AttemptStatus

pytestmark = pytest.mark.integration
USER = execution_pb2.ExecutionError.ERROR_KIND_USER
SYSTEM = execution_pb2.ExecutionError.ERROR_KIND_SYSTEM
Make = Callable[[], ProcessExecutor]


async def _cmd(
    store: FileStore,
    template: tasks_pb2.TaskTemplate,
    node: str,
    *,
    attempt: int = 0,
    memory: str = "",
    **inputs: float,
) -> LaunchAttempt:
    lm = literals_pb2.LiteralMap()
    for k, v in inputs.items():
        if isinstance(v, float):
            lm.literals[k].scalar.primitive.float_value = v
        else:
            lm.literals[k].scalar.primitive.integer = v
    key = f"e/{node}/inputs.pb"
    await store.put_bytes(key, lm.SerializeToString())
    resources = tasks_pb2.Resources()
    if memory:
        resources.limits.add(name=tasks_pb2.Resources.RESOURCE_NAME_MEMORY, value=memory)
    return LaunchAttempt(
        attempt_id=f"e-{node}-{attempt}",
        node_path=node,
        retry_attempt=attempt,
        task=template,
        inputs_uri=store.uri(key),
        output_prefix=store.uri(f"e/{node}/{attempt}"),
        raw_output_prefix=store.uri(f"raw/{node}/{attempt}"),
        resources=resources,
        interruptible=False,
        env=(("SKYLOOM_NODE_ID", node), ("SKYLOOM_ATTEMPT", str(attempt))),
    )


async def _wait(ex: ProcessExecutor, attempt_id: str, limit: float = 60) -> AttemptStatus:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        st = await ex.status(attempt_id)
        assert st is not None
        if st.phase != AttemptPhase.RUNNING:
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"{attempt_id} still running after {limit}s")


async def test_success_is_read_from_outputs_pb(
    tasks: ModuleType, make_executor: Make, store: FileStore
) -> None:
    ex = make_executor()
    cmd = await _cmd(store, tasks.slow_inc.template, "a", x=41)
    first = await ex.launch(cmd)
    assert first.phase == AttemptPhase.RUNNING
    assert first.handle.startswith("pid:")
    st = await _wait(ex, cmd.attempt_id)
    assert st.phase == AttemptPhase.SUCCEEDED, st
    out = literals_pb2.LiteralMap()
    out.ParseFromString(await store.get_bytes(store.key_of(st.outputs_uri)))
    assert out.literals["o0"].scalar.primitive.integer == 42
    stdout, stderr = ex.logs(cmd.attempt_id)
    assert stdout.exists()
    assert stderr.exists()
    # The result is visible before the process exits; its wrapper then records status 0.
    exit_file = ex.attempt_dir(cmd.attempt_id) / "exit"
    for _ in range(100):
        if exit_file.exists():
            break
        await asyncio.sleep(0.05)
    assert _lines(exit_file) == ["0"]


async def test_unknown_attempt_is_none(make_executor: Make) -> None:
    assert await make_executor().status("never-launched") is None


async def test_restart_adopts_running_attempts_and_never_launches_twice(
    tasks: ModuleType, make_executor: Make, store: FileStore, ledger: Path
) -> None:
    first = make_executor()
    cmds = [await _cmd(store, tasks.slow_inc.template, f"n{i}", x=i, delay=1.5) for i in range(3)]
    handles = [(await first.launch(c)).handle for c in cmds]
    # A second launch through the same object adopts too.
    assert (await first.launch(cmds[0])).handle == handles[0]
    first.close()  # "restart": a new object that shares nothing but the directory
    second = make_executor()
    adopted = [await second.launch(c) for c in cmds]
    assert [a.handle for a in adopted] == handles
    assert all(a.phase == AttemptPhase.RUNNING for a in adopted)
    results = [await _wait(second, c.attempt_id) for c in cmds]
    assert [r.phase for r in results] == [AttemptPhase.SUCCEEDED] * 3
    # Relaunching a finished attempt still adopts (and reports its result).
    again = await second.launch(cmds[1])
    assert again.phase == AttemptPhase.SUCCEEDED
    lines = _lines(ledger)
    assert sorted(line.split()[0] for line in lines) == ["n0", "n1", "n2"]


async def test_concurrent_launches_of_one_attempt_start_one_process(
    tasks: ModuleType, make_executor: Make, store: FileStore, ledger: Path
) -> None:
    cmd = await _cmd(store, tasks.slow_inc.template, "race", x=1, delay=0.5)
    a, b = make_executor(), make_executor()
    await asyncio.gather(*(ex.launch(cmd) for ex in (a, b, a, b)))
    assert (await _wait(b, cmd.attempt_id)).phase == AttemptPhase.SUCCEEDED
    assert len(_lines(ledger)) == 1


async def test_abort_kills_the_process_group(
    tasks: ModuleType, make_executor: Make, store: FileStore
) -> None:
    ex = make_executor()
    cmd = await _cmd(store, tasks.slow_inc.template, "slow", x=1, delay=60.0)
    await ex.launch(cmd)
    await asyncio.sleep(0.5)
    pid = int((await ex.status(cmd.attempt_id)).handle.split(":")[1])  # type: ignore[union-attr]
    group = [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    await ex.abort(cmd.attempt_id, "user asked")
    st = await _wait(ex, cmd.attempt_id, limit=10)
    assert st.phase == AttemptPhase.ABORTED
    assert st.error_message == "user asked"
    members = [p for p in map(_proc, group) if p is not None]
    _, alive = psutil.wait_procs(members, timeout=5)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    await ex.abort(cmd.attempt_id, "again")  # idempotent
    await ex.abort("never-launched", "nothing")  # tolerated


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


async def test_a_vanished_process_is_a_retryable_system_error(
    tasks: ModuleType, make_executor: Make, store: FileStore
) -> None:
    ex = make_executor()
    cmd = await _cmd(store, tasks.slow_inc.template, "lost", x=1, delay=60.0)
    first = await ex.launch(cmd)
    await asyncio.sleep(0.5)
    import os
    import signal

    os.killpg(int(first.handle.split(":")[1]), signal.SIGKILL)  # e.g. the node was lost
    st = await _wait(ex, cmd.attempt_id, limit=10)
    assert st.phase == AttemptPhase.FAILED
    assert (st.error_kind, st.retryable) == (SYSTEM, True)
    assert st.error_code == "ProcessVanished"


async def test_user_error_comes_from_error_pb(
    tasks: ModuleType, make_executor: Make, store: FileStore
) -> None:
    ex = make_executor()
    cmd = await _cmd(store, tasks.boom.template, "boom", x=3)
    await ex.launch(cmd)
    st = await _wait(ex, cmd.attempt_id)
    assert (st.phase, st.error_code, st.error_kind) == (AttemptPhase.FAILED, "ValueError", USER)
    assert "bad x=3" in st.error_message
    assert not st.retryable
    assert st.error_uri.endswith("/error.pb")


async def test_memory_limit_gives_a_clear_error(
    tasks: ModuleType, make_executor: Make, store: FileStore
) -> None:
    ex = make_executor()
    cmd = await _cmd(store, tasks.hog.template, "hog", memory="400Mi", mb=2048)
    await ex.launch(cmd)
    st = await _wait(ex, cmd.attempt_id)
    assert st.phase == AttemptPhase.FAILED
    assert st.error_code == "OOMKilled"
    assert "memory limit of 419430400 bytes" in st.error_message
