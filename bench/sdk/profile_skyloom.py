"""Where skyloom's local-execution overhead goes: cProfile of the bench workflows.

    .venv/bin/python bench/sdk/profile_skyloom.py [chain|map|cold] [--top 25] [--sort tottime]

``chain`` and ``map`` profile warm calls (after one untimed call), repeated ``--repeat`` times;
``cold`` profiles the first workflow call in the process (the one-task ``single``), which
carries the SDK's lazy initialisation. Prints the top functions; not run by ``make test``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wf_skyloom  # after the path tweak above


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["chain", "map", "cold"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    args = parser.parse_args()

    items = list(range(1000))
    calls: dict[str, Callable[[], Any]] = {
        "chain": lambda: wf_skyloom.chain(x=0),
        "map": lambda: wf_skyloom.mapped(xs=items),
        "cold": lambda: wf_skyloom.single(x=0),
    }
    call = calls[args.case]
    repeat = 1 if args.case == "cold" else args.repeat
    if args.case != "cold":
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
