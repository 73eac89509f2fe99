"""End to end without servers: SDK-compiled workflows run by ``evaluate`` rounds against the
process backend and a file:// blob store, including a propeller "crash" mid-run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import psutil
import pytest

from skyloom_core.blob import FileStore
from skyloom_idl.core import execution_pb2, literals_pb2
from skyloom_idl.event import event_pb2
from skyloom_propeller.executors.process import ProcessExecutor
from skyloom_propeller.local_driver import LocalDriver
from skyloom_propeller.state import ExecutionState

pytestmark = pytest.mark.integration
WF = execution_pb2.WorkflowExecution.Phase
NODE = execution_pb2.NodeExecution.Phase
TASK = execution_pb2.TaskExecution.Phase
Make = Callable[[], ProcessExecutor]


async def _start(store: FileStore, name: str, **inputs: float) -> ExecutionState:
    lm = literals_pb2.LiteralMap()
    for k, v in inputs.items():
        if isinstance(v, float):
            lm.literals[k].scalar.primitive.float_value = v
        else:
            lm.literals[k].scalar.primitive.integer = v
    await store.put_bytes(f"{name}/inputs.pb", lm.SerializeToString())
    return ExecutionState(
        project="p", domain="d", name=name, inputs_uri=store.uri(f"{name}/inputs.pb"),
        data_prefix=store.uri(name),
    )  # fmt: skip


async def _output(store: FileStore, state: ExecutionState) -> int:
    out = literals_pb2.LiteralMap()
    out.ParseFromString(await store.get_bytes(store.key_of(state.outputs_uri)))
    return out.literals["o0"].scalar.primitive.integer


def _ledger(path: Path) -> list[tuple[str, str]]:
    return sorted((ln.split()[0], ln.split()[1]) for ln in path.read_text().splitlines())


async def test_five_node_workflow_end_to_end(
    tasks: ModuleType, make_executor: Make, store: FileStore, ledger: Path
) -> None:
    state = await _start(store, "e2e", x=1, delay=0.0)
    driver = LocalDriver(state, tasks.five.graph.closure, store, make_executor())
    final = await driver.run()
    assert final.phase == WF.PHASE_SUCCEEDED, final.error
    assert await _output(store, final) == 2 + 1 + 20 + 1  # a=2, b=3, c=20, d=23, e=24
    # One process per attempt: flaky ran twice (a retryable user error), the rest once.
    runs = _ledger(ledger)
    assert [n for n, a in runs if a == "1"] == [next(n for n, _ in runs if n.startswith("n2"))]
    assert len(runs) == 6
    assert len(driver.launched) == len(set(driver.launched)) == 6
    phases = [e.phase for e in driver.events if isinstance(e, event_pb2.WorkflowExecutionEvent)]
    assert phases == [WF.PHASE_RUNNING, WF.PHASE_SUCCEEDED]
    # Each finished attempt's logs are in the blob store and linked from its task event.
    failed = [
        e for e in driver.events
        if isinstance(e, event_pb2.TaskExecutionEvent) and e.phase == TASK.PHASE_FAILED
    ]  # fmt: skip
    assert len(failed) == 1
    assert failed[0].error.code == "RetryableError" or failed[0].error.retryable
    stderr = next(x.uri for x in failed[0].logs if x.name == "stderr.log")
    assert "try again" in (await store.get_bytes(store.key_of(stderr))).decode()


async def test_crash_mid_run_adopts_running_attempts(
    tasks: ModuleType, make_executor: Make, store: FileStore, ledger: Path
) -> None:
    saved: list[bytes] = []
    state = await _start(store, "crash", x=1, delay=1.0)
    closure = tasks.five.graph.closure
    first_exec = make_executor()
    first = LocalDriver(state, closure, store, first_exec, persist=saved.append)
    for _ in range(400):  # run until some attempt is in flight, then "crash"
        await first.step()
        if first.launched and any(st.task_phase for st in first.state.nodes.values()):
            break
        await asyncio.sleep(0.02)
    assert first_exec.spawned
    first_exec.close()
    del first
    # A new propeller: the persisted round, a fresh executor object, an empty view. Replaying
    # the round's commands re-issues its launches: the executor adopts them.
    second_exec = make_executor()
    second = LocalDriver.resume(saved[-1], closure, store, second_exec)
    final = await second.run()
    assert final.phase == WF.PHASE_SUCCEEDED
    assert await _output(store, final) == 24
    assert not set(first_exec.spawned) & set(second_exec.spawned), "an attempt ran twice"
    runs = _ledger(ledger)
    assert len(runs) == len(set(runs)) == 6


async def test_timeout_kills_the_attempt(
    tasks: ModuleType, make_executor: Make, store: FileStore, ledger: Path
) -> None:
    state = await _start(store, "slow", x=1)
    ex = make_executor()
    driver = LocalDriver(state, tasks.times_out.graph.closure, store, ex)
    final = await driver.run(limit_s=30)
    assert final.phase == WF.PHASE_FAILED
    assert final.error is not None
    assert final.error.code == "RetriesExhausted|TimeoutExpired"
    (node,) = [st for st in final.nodes.values() if st.handle]
    pid = json.loads((ex.attempt_dir(node.handle) / "process.json").read_bytes())["pid"]
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


class _CrashAfterPersist(Exception):
    pass


async def test_crash_between_persisting_and_executing_a_round(
    tasks: ModuleType, make_executor: Make, store: FileStore, ledger: Path
) -> None:
    """The worst window: the round is saved, none of its commands ran (no inputs.pb written, no
    launch). The restarted driver re-executes the saved commands first, then goes on."""
    saved: list[bytes] = []

    def persist_then_die(record: bytes) -> None:
        saved.append(record)
        if len(saved) in (1, 3, 6):  # first round (start), a launch round, a later one
            raise _CrashAfterPersist

    state = await _start(store, "window", x=1, delay=0.0)
    closure = tasks.five.graph.closure
    driver = LocalDriver(state, closure, store, make_executor(), persist=persist_then_die)
    for _ in range(3):
        with pytest.raises(_CrashAfterPersist):
            await driver.run()
        driver = LocalDriver.resume(
            saved[-1], closure, store, make_executor(), persist=persist_then_die
        )
    final = await driver.run()
    assert final.phase == WF.PHASE_SUCCEEDED
    assert await _output(store, final) == 24
    runs = _ledger(ledger)
    assert len(runs) == len(set(runs)) == 6
