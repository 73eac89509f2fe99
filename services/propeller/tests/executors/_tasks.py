"""Task module run by real ``skyloom-execute`` processes in the executor tests.

Every task appends ``<node> <attempt> <pid>`` to the ledger file named by ``$LEDGER`` first, so a
test can count how many processes each attempt really got.
"""

from __future__ import annotations

import os
import time

from skyloom import task


def _ledger() -> None:
    with open(os.environ["LEDGER"], "a") as f:
        node, attempt = os.environ.get("SKYLOOM_NODE_ID"), os.environ.get("SKYLOOM_ATTEMPT")
        f.write(f"{node} {attempt} {os.getpid()}\n")


@task
def slow_inc(x: int, delay: float = 0.0) -> int:
    _ledger()
    time.sleep(delay)
    return x + 1


@task
def hog(mb: int) -> int:
    _ledger()
    data = bytearray(mb * 1024 * 1024)
    return len(data)


@task
def boom(x: int) -> int:
    _ledger()
    raise ValueError(f"bad x={x}")
