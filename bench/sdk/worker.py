"""One fresh process of the in-process benchmark; run.py starts it under each SDK's python.

    python worker.py wf_skyloom|wf_flyte OUT.json [--rounds 3] [--map-items 1000]

Imports the workflow module (timed apart), then does one *cold* round and ``--rounds`` warm
rounds; a round calls ``single``, ``chain``, ``mapped`` over 1 item and ``mapped`` over
``--map-items`` items, each timed around the workflow call only (wall: ``perf_counter``; CPU
of the whole process: ``process_time``, steadier on a loaded machine), and each result checked.
Writes the timings as JSON to OUT.json (stdout is left to the SDK's own logging). Standard
library only, so the same file runs under either SDK's interpreter.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds of this process (all its threads), and the call's value."""
    start, start_cpu = time.perf_counter(), time.process_time()
    value = call()
    return time.perf_counter() - start, time.process_time() - start_cpu, value


def _round(wf: Any, items: list[int]) -> dict[str, dict[str, float]]:
    chain_length = wf.CHAIN_LENGTH
    cases: dict[str, tuple[Callable[[], Any], Any]] = {
        "single": (lambda: wf.single(x=0), 1),
        "chain": (lambda: wf.chain(x=0), chain_length),
        "map_1": (lambda: wf.mapped(xs=[0]), [1]),
        "map_n": (lambda: wf.mapped(xs=items), [i + 1 for i in items]),
    }
    seconds: dict[str, dict[str, float]] = {"wall": {}, "cpu": {}}
    for name, (call, expected) in cases.items():
        seconds["wall"][name], seconds["cpu"][name], value = _timed(call)
        if value != expected:
            raise SystemExit(f"worker: {name} returned {value!r:.80}, expected {expected!r:.80}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("module")
    parser.add_argument("out", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--map-items", type=int, default=1000)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import_seconds, _, wf = _timed(lambda: importlib.import_module(args.module))
    items = list(range(args.map_items))
    cold = _round(wf, items)
    warm = [_round(wf, items) for _ in range(args.rounds)]
    args.out.write_text(
        json.dumps(
            {"python": sys.version.split()[0], "import": import_seconds, "cold": cold, "warm": warm}
        )
    )


if __name__ == "__main__":
    main()
