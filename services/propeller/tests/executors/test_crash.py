"""SIGKILL a real propeller process three times during a 5-node execution: the execution still
succeeds, and no attempt ever gets a second process (the tasks' ledger proves it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skyloom_propeller.journal import read_record
from skyloom_propeller.state import from_bytes

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).with_name("_crashy_driver.py")


def _start(tmp: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(SCRIPT), str(tmp), str(tmp / "attempts"), str(tmp / "blobs")]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_launch(tmp: Path, seen: int, limit: float = 60) -> int:
    """Wait until the attempts directory holds more than ``seen`` claimed attempts."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        root = tmp / "attempts"
        n = len(list(root.glob("*/claim"))) if root.exists() else 0
        if n > seen:
            return n
        time.sleep(0.02)
    raise AssertionError("no new attempt was launched")


def test_sigkill_propeller_three_times(tmp_path: Path, env: dict[str, str], ledger: Path) -> None:
    full_env = {**os.environ, **env}
    seen = 0
    for _ in range(3):
        proc = _start(tmp_path, full_env)
        seen = _wait_for_launch(tmp_path, seen)
        time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    last = _start(tmp_path, full_env)
    _, err = last.communicate(timeout=120)
    assert last.returncode == 0, err.decode()[-3000:]
    state = from_bytes(read_record((tmp_path / "state.bin").read_bytes())[0])
    assert state.phase == 4, state  # SUCCEEDED
    lines = [ln.split()[:2] for ln in ledger.read_text().splitlines()]
    assert len(lines) == 6  # five nodes, one retry of `flaky`
    assert len({tuple(x) for x in lines}) == len(lines), "an attempt ran twice"
    claims = list((tmp_path / "attempts").glob("*/claim"))
    assert len(claims) == 6
