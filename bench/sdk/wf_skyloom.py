"""The bench workflows, written with skyloom. wf_flyte.py is the same module for flytekit.

``single`` and a one-item ``mapped`` are the baselines subtracted from ``chain`` and a
1,000-item ``mapped``, so what remains is the cost of the extra tasks / map items.
"""

from skyloom import map_task, task, workflow

CHAIN_LENGTH = 50


@task
def add_one(x: int) -> int:
    return x + 1


@workflow
def single(x: int = 0) -> int:
    return add_one(x=x)


@workflow
def chain(x: int = 0) -> int:
    y = x
    for _ in range(CHAIN_LENGTH):
        y = add_one(x=y)
    return y


@workflow
def mapped(xs: list[int]) -> list[int]:
    return map_task(add_one)(x=xs)
