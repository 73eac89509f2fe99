"""Progress views: plain lines for logs and pipes, a rich table on a terminal."""

from __future__ import annotations

import io

import pytest

from skyloom.cli.view import LiveView, PlainView, make_view
from skyloom.local.executor import NodeEvent


def test_plain_view_prints_one_line_per_phase_with_attempt_and_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = PlainView()
    with view:
        view.on_event(NodeEvent("n0", "train", "RUNNING"))
        view.on_event(NodeEvent("n0", "train", "RETRYING", attempt=1, message="preempted"))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("n0         train                RUNNING")
    assert lines[1].endswith("n0         train                RETRYING attempt 2 preempted")


def test_not_a_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert isinstance(make_view(plain=False), PlainView)


def test_live_view_keeps_the_latest_phase_per_node() -> None:
    view = LiveView()
    with view:
        view.on_event(NodeEvent("n0", "a", "RUNNING"))
        view.on_event(NodeEvent("n0", "a", "SUCCEEDED"))
        view.on_event(NodeEvent("n1", "b", "FAILED", message="boom"))
    assert {k: e.phase for k, e in view.rows.items()} == {"n0": "SUCCEEDED", "n1": "FAILED"}
