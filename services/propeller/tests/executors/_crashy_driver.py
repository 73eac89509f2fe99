"""A stand-alone propeller for the crash test: resumes from ``state.bin`` if present, persists
after every round, and runs until the execution is terminal (or until it is SIGKILLed).

Usage: python _crashy_driver.py <work dir> <attempts dir> <blob dir>
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

from skyloom_core.blob import FileStore
from skyloom_idl.core import literals_pb2
from skyloom_propeller.executors.process import ProcessExecutor
from skyloom_propeller.local_driver import LocalDriver
from skyloom_propeller.state import ExecutionState


def _persist(path: Path) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    return write


async def main(work: Path, attempts: Path, blobs: Path) -> None:
    import ledger_tasks

    state_file = work / "state.bin"
    async with FileStore(blobs.as_uri()) as store:
        executor = ProcessExecutor(attempts, store, env=dict(os.environ))
        closure = ledger_tasks.five.graph.closure
        persist = _persist(state_file)
        if state_file.exists():
            driver = LocalDriver.resume(
                state_file.read_bytes(), closure, store, executor, persist=persist
            )
        else:
            lm = literals_pb2.LiteralMap()
            lm.literals["x"].scalar.primitive.integer = 1
            lm.literals["delay"].scalar.primitive.float_value = 0.7
            await store.put_bytes("crashy/inputs.pb", lm.SerializeToString())
            state = ExecutionState(
                "p", "d", "crashy", store.uri("crashy/inputs.pb"), store.uri("crashy")
            )
            driver = LocalDriver(state, closure, store, executor, persist=persist)
        final = await driver.run(limit_s=120)
        (work / "launched.txt").open("a").write("".join(f"{a}\n" for a in driver.launched))
        print(final.phase, final.outputs_uri)


if __name__ == "__main__":
    asyncio.run(main(*(Path(p) for p in sys.argv[1:4])))
