"""Task module run by real ``skyloom-execute`` processes in the executor tests.

Every task appends ``<node> <attempt> <pid>`` to the ledger file named by ``$LEDGER`` first, so a
test can count how many processes each attempt really got.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from skyloom import RetryableError, task, workflow


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


@task
def add(a: int, b: int) -> int:
    _ledger()
    return a + b


@task(retries=2)
def flaky(x: int) -> int:
    """Fails with a retryable error on its first attempt."""
    _ledger()
    if os.environ.get("SKYLOOM_ATTEMPT") == "0":
        raise RetryableError("try again")
    return x * 10


@task(timeout=timedelta(seconds=1))
def stuck(x: int) -> int:
    _ledger()
    time.sleep(60)
    return x


@workflow
def five(x: int, delay: float = 0.0) -> int:
    """Five task nodes: a -> (b, c) -> d -> e."""
    a = slow_inc(x=x, delay=delay)
    b = slow_inc(x=a, delay=delay)
    c = flaky(x=a)
    d = add(a=b, b=c)
    return slow_inc(x=d, delay=delay)


@workflow
def times_out(x: int) -> int:
    return stuck(x=x)
