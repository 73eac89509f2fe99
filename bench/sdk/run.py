"""Skyloom's SDK beside flytekit's, measured in the same run on the same machine.

    python bench/sdk/run.py [--processes 7] [--rounds 5] [--cli-runs 15] [--out FILE]

1. Per-task overhead of local execution. For each SDK, ``--processes`` fresh processes
   (skyloom and flytekit alternating) run worker.py, which times the workflow calls of
   wf_skyloom.py / wf_flyte.py inside the process, after imports. Per-task overhead is
   (50-task chain - 1-task workflow) / 49 and per map item (1,000-item map - 1-item map) / 999:
   the one-task runs are the no-op baselines that take out the fixed cost of a workflow call.
   A task body adds 1 to an int, so what remains is SDK overhead.
2. Whole-process CLI time: ``skyloom run bench/sdk/wf_skyloom.py:chain`` against
   ``pyflyte run bench/sdk/wf_flyte.py chain`` and ``skyloom --help`` against ``pyflyte --help``,
   one warm-up each, then ``--cli-runs`` runs each, alternating.

flytekit is installed from PyPI with pip into bench/sdk/.venv-flytekit on first run, pinned to
FLYTEKIT_VERSION. Skyloom runs from the workspace venv (.venv at the repo root). The table goes
to stdout, all figures to bench/sdk/results/latest.json. Exit 0 when everything was measured
(with --strict, only if every aim was also met); 2 when something could not be measured — no
figure is printed for it. Not run by ``make test``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLYTEKIT_VERSION = "1.16.31"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CHAIN_LENGTH = 50  # wf_*.CHAIN_LENGTH
AIMS = {"overhead": 10.0, "cli_run": 3.0}  # flytekit / skyloom, from issue 3
# Measured processes run as a user's would: with bytecode caching on. Without it every skyloom
# process compiles click and its own modules from source (uv installs no .pyc files), while
# pip had compiled flytekit's at install time.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class BenchFailed(Exception):
    """Something could not be measured; the message says what."""


@dataclass(frozen=True)
class Sdk:
    name: str
    python: Path
    module: str
    run_cmd: list[str]
    help_cmd: list[str]


def _sdks(flyte_venv: Path) -> list[Sdk]:
    sky_bin = REPO / ".venv" / "bin"
    fly_bin = flyte_venv / "bin"
    return [
        Sdk(
            "skyloom",
            sky_bin / "python",
            "wf_skyloom",
            [str(sky_bin / "skyloom"), "run", "bench/sdk/wf_skyloom.py:chain"],
            [str(sky_bin / "skyloom"), "--help"],
        ),
        Sdk(
            "flytekit",
            fly_bin / "python",
            "wf_flyte",
            [str(fly_bin / "pyflyte"), "run", "bench/sdk/wf_flyte.py", "chain"],
            [str(fly_bin / "pyflyte"), "--help"],
        ),
    ]


# --- setup ---------------------------------------------------------------------------------


def _installed_flytekit(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import flytekit; print(flytekit.__version__)"],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_flytekit(venv: Path) -> str:
    """The flytekit version in ``venv``, installing FLYTEKIT_VERSION there first if needed."""
    python = venv / "bin" / "python"
    if _installed_flytekit(python) == FLYTEKIT_VERSION:
        return FLYTEKIT_VERSION
    print(f"installing flytekit=={FLYTEKIT_VERSION} into {venv} (once) ...", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", f"flytekit=={FLYTEKIT_VERSION}"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise BenchFailed(f"could not install flytekit: {' '.join(step)} failed:\n{tail}")
    version = _installed_flytekit(python)
    if version != FLYTEKIT_VERSION:
        raise BenchFailed(f"flytekit installed but `import flytekit` gives version {version!r}")
    return version


# --- measuring -----------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def in_process(sdk: Sdk, rounds: int, map_items: int) -> dict[str, Any]:
    """One fresh worker process; its timings plus the derived per-task overheads."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [str(sdk.python), str(HERE / "worker.py"), sdk.module, str(out)]
        cmd += ["--rounds", str(rounds), "--map-items", str(map_items)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=CHILD_ENV)
        if done.returncode != 0 or not out.exists():
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise BenchFailed(f"{sdk.name} worker failed (exit {done.returncode}):\n{tail}")
        raw: dict[str, Any] = json.loads(out.read_text())
    for clock in ("wall", "cpu"):
        warm = {k: statistics.median(r[clock][k] for r in raw["warm"]) for k in raw["cold"][clock]}
        raw[f"per_task_{clock}"] = (warm["chain"] - warm["single"]) / (CHAIN_LENGTH - 1)
        raw[f"per_map_item_{clock}"] = (warm["map_n"] - warm["map_1"]) / (map_items - 1)
        raw[f"warm_median_{clock}"] = warm
    return raw


def whole_process(cmd: list[str], expect: str | None) -> dict[str, float]:
    """Wall and CPU seconds of one run of ``cmd`` from the repo root, output captured."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=CHILD_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or (expect is not None and expect not in done.stdout):
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BenchFailed(f"`{' '.join(cmd)}` failed (exit {done.returncode}):\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def alternate(sdks: list[Sdk], runs: int, job: Any) -> dict[str, list[Any]]:
    """``runs`` results of ``job(sdk)`` per SDK, alternating which goes first each pair."""
    results: dict[str, list[Any]] = {s.name: [] for s in sdks}
    for i in range(runs):
        for sdk in sdks if i % 2 == 0 else sdks[::-1]:
            results[sdk.name].append(job(sdk))
    return results


def cli_runs(sdks: list[Sdk], what: str, runs: int) -> dict[str, list[dict[str, float]]]:
    """``what`` ("run" or "help") of each SDK's CLI: one warm-up each, then ``runs`` each."""
    expect = "50" if what == "run" else None  # the chain's output must be printed

    def once(sdk: Sdk) -> dict[str, float]:
        return whole_process(sdk.run_cmd if what == "run" else sdk.help_cmd, expect)

    for sdk in sdks:  # warm-up: page cache, .pyc files
        once(sdk)
    return alternate(sdks, runs, once)


# --- reporting -----------------------------------------------------------------------------


def compare(sky: list[float], fly: list[float], aim: float | None) -> dict[str, Any]:
    pairs = [f / s for s, f in zip(sky, fly, strict=True) if s > 0]
    row: dict[str, Any] = {"skyloom": spread(sky), "flytekit": spread(fly)}
    row["ratio"] = spread(pairs) if pairs else None
    if aim is not None and pairs:
        row["aim"] = aim
        row["aim_met"] = statistics.median(pairs) >= aim
    return row


def _fmt(seconds: float, unit: str) -> str:
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
    return f"{seconds * scale:.3f}" if unit == "s" else f"{seconds * scale:.1f}"


def print_table(rows: dict[str, tuple[str, dict[str, Any]]]) -> None:
    head = f"{'measure':<34}{'unit':>5}  {'skyloom min/med/max':>22}  {'flytekit min/med/max':>22}"
    print(f"\n{head}  {'flytekit/skyloom':>17}  aim")
    for label, (unit, row) in rows.items():
        cells = []
        for sdk in ("skyloom", "flytekit"):
            s = row[sdk]
            cells.append("/".join(_fmt(s[k], unit) for k in ("min", "median", "max")))
        r = row["ratio"]
        ratio = f"{r['median']:.1f}x ({r['min']:.1f}-{r['max']:.1f})" if r else "n/a"
        aim = ""
        if "aim" in row:
            aim = f">={row['aim']:.0f}x " + ("met" if row["aim_met"] else "MISSED")
        line = f"{label:<34}{unit:>5}  {cells[0]:>22}  {cells[1]:>22}  {ratio:>17}  {aim}"
        print(line.rstrip())


def summarize(
    procs: dict[str, list[dict[str, Any]]], cli: dict[str, dict[str, list[Any]]], map_items: int
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Table rows: label -> (unit, comparison)."""

    def row(get: Any, aim: float | None = None) -> dict[str, Any]:
        return compare(get("skyloom"), get("flytekit"), aim)

    def proc(key: str) -> Any:
        return lambda name: [float(p[key]) for p in procs[name]]

    def first_result() -> Any:  # import, then the first (cold) one-task workflow call
        return lambda name: [float(p["import"] + p["cold"]["wall"]["single"]) for p in procs[name]]

    def whole(what: str, key: str) -> Any:
        return lambda name: [r[key] for r in cli[what][name]]

    return {
        "per-task overhead, 50-task chain": ("us", row(proc("per_task_wall"), AIMS["overhead"])),
        "  the chain in process CPU time": ("us", row(proc("per_task_cpu"))),
        f"per-item overhead, {map_items}-item map": (
            "us",
            row(proc("per_map_item_wall"), AIMS["overhead"]),
        ),
        "  the map in process CPU time": ("us", row(proc("per_map_item_cpu"))),
        "import of the workflow module": ("ms", row(proc("import"))),
        "import + first call (1 task, cold)": ("ms", row(first_result())),
        "CLI run chain, wall": ("s", row(whole("run", "wall"), AIMS["cli_run"])),
        "CLI run chain, cpu (user+sys)": ("s", row(whole("run", "cpu"))),
        "CLI --help, wall": ("s", row(whole("help", "wall"))),
        "CLI --help, cpu (user+sys)": ("s", row(whole("help", "cpu"))),
    }


def _git_commit() -> str:
    """HEAD, "+dirty" if sdk/ or libs/ have uncommitted changes (those were measured)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "sdk", "libs"], cwd=REPO, capture_output=True
    )
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=7, help="fresh processes per SDK")
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds in each process")
    parser.add_argument("--map-items", type=int, default=1000)
    parser.add_argument("--cli-runs", type=int, default=15, help="timed CLI runs per command")
    parser.add_argument("--flytekit-venv", type=Path, default=HERE / ".venv-flytekit")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 if an aim is missed")
    args = parser.parse_args()

    # Skyloom's local runs write a run directory each; keep those out of ~/.skyloom.
    runs_dir = tempfile.TemporaryDirectory(prefix="skyloom-bench-runs-")
    CHILD_ENV["SKYLOOM_LOCAL_RUNS"] = runs_dir.name
    try:
        flytekit_version = ensure_flytekit(args.flytekit_venv)
        sdks = _sdks(args.flytekit_venv)
        if not sdks[0].python.exists():
            raise BenchFailed(f"no skyloom venv at {sdks[0].python}: run `make install` first")
        print(f"in-process: {args.processes} processes x {args.rounds} warm rounds each ...")
        for sdk in sdks:  # warm-up, not counted: page cache, .pyc files
            in_process(sdk, 1, 10)
        procs = alternate(
            sdks, args.processes, lambda s: in_process(s, args.rounds, args.map_items)
        )
        print(f"whole-process: {args.cli_runs} runs of each CLI command ...", flush=True)
        cli = {what: cli_runs(sdks, what, args.cli_runs) for what in ("run", "help")}
    except (BenchFailed, subprocess.TimeoutExpired) as exc:
        print(f"\nbench failed, nothing measured for it: {exc}", file=sys.stderr)
        return 2
    finally:
        runs_dir.cleanup()

    rows = summarize(procs, cli, args.map_items)
    print_table(rows)
    missed = [label for label, (_, row) in rows.items() if row.get("aim_met") is False]
    print("\nratio = flytekit / skyloom, median of the per-pair ratios (range in brackets).")
    print("aims missed: " + (", ".join(missed) if missed else "none"))

    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": {
            "python": platform.python_version(),
            "flytekit": flytekit_version,
            "skyloom_commit": _git_commit(),
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "summary": {label: {"unit": unit, **row} for label, (unit, row) in rows.items()},
        "raw": {"in_process": procs, "cli": cli},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {args.out}")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
