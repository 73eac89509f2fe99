"""The ``skyloom`` CLI: generated flags, runs of the examples, errors, start-up weight."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from skyloom.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_hello_prints_outputs() -> None:
    code, out, err = _run("run", "--plain", f"{EXAMPLES}/hello.py:hello_wf", "--name", "Ada")
    assert code == 0, err
    assert out == 'o0: "Hello, Ada!"\n'
    assert "say_hello" in err
    assert "SUCCEEDED" in err


def test_flags_and_help_come_from_the_interface_and_docstrings() -> None:
    code, out, _ = _run("run", f"{EXAMPLES}/ml_pipeline.py:training_wf", "--help")
    assert code == 0
    assert "--learning-rates" in out
    assert "one model is trained per rate" in out
    assert "--epochs" in out
    assert "Train one model per learning rate" in out


def test_run_genomics_prints_the_deck_location(tmp_path: Path) -> None:
    code, out, err = _run(
        "run", "--plain", "--run-dir", str(tmp_path), f"{EXAMPLES}/genomics_qc.py:qc_wf",
        "--data-dir", str(EXAMPLES / "data"), "--min-quality", "30",
    )  # fmt: skip
    assert code == 0, err
    assert out == "o0: 3\n"
    deck_lines = [line for line in err.splitlines() if line.startswith("deck ")]
    assert len(deck_lines) == 1
    assert Path(deck_lines[0].split(": ", 1)[1]).is_file()


def test_json_inputs_and_dataclass_outputs() -> None:
    code, out, err = _run(
        "run", "--plain", f"{EXAMPLES}/ml_pipeline.py:training_wf",
        "--learning-rates", "[0.1, 0.2]", "--epochs", "50",
    )  # fmt: skip
    assert code == 0, err
    first, second = out.splitlines()
    assert json.loads(first.split(": ", 1)[1])["learning_rate"] in (0.1, 0.2)
    assert float(second.split(": ", 1)[1]) >= 0


def test_a_bad_flag_value_is_a_usage_error() -> None:
    code, _, err = _run("run", f"{EXAMPLES}/ml_pipeline.py:training_wf", "--epochs", "many")
    assert code == 2
    assert "'many' is not a valid integer" in err


def test_task_failure_shows_the_author_frames_and_exits_1(tmp_path: Path) -> None:
    wf = tmp_path / "broken.py"
    wf.write_text(
        "from skyloom import task, workflow\n"
        "@task\n"
        "def parse(s: str) -> int:\n"
        "    return int(s)\n"
        "@workflow\n"
        "def wf(s: str) -> int:\n"
        "    return parse(s=s)\n"
    )
    code, _, err = _run("run", "--plain", f"{wf}:wf", "--s", "x")
    assert code == 1
    assert "FAILED: task parse (broken.py:2) failed in node n0" in err
    assert 'broken.py", line 4, in parse' in err
    assert "skyloom/local" not in err


def test_compile_error_is_shown_in_the_authors_terms(tmp_path: Path) -> None:
    wf = tmp_path / "bad.py"
    wf.write_text(
        "from skyloom import task, workflow\n"
        "@task\n"
        "def load(n: int) -> str:\n"
        "    return str(n)\n"
        "@task\n"
        "def clean(df: str, scale: int) -> str:\n"
        "    return df * scale\n"
        "@workflow\n"
        "def pipeline(n: int) -> str:\n"
        "    raw = load(n=n)\n"
        "    return clean(df=raw, scale=raw)\n"
    )
    code, _, err = _run("compile", f"{wf}:pipeline")
    assert code == 1
    assert "pipeline (bad.py:11): input 'scale' of clean expects int, got str from load.o0" in err


GATED = (
    "from skyloom import approve, task, wait_for_input, workflow\n"
    "@task\n"
    "def add(a: int, b: int) -> int:\n"
    "    return a + b\n"
    "@workflow\n"
    "def wf(a: int) -> int:\n"
    "    b = wait_for_input('b', timeout=60, expected_type=int)\n"
    "    return approve(add(a=a, b=b), 'ok', timeout=60)\n"
)


def test_gates_take_signals_and_approvals_from_flags(tmp_path: Path) -> None:
    wf = tmp_path / "gated.py"
    wf.write_text(GATED)
    code, out, err = _run(
        "run", "--plain", "--signal", "b=4", "--approve", "ok", f"{wf}:wf", "--a", "1"
    )
    assert code == 0, err
    assert out == "o0: 5\n"


def test_compile_prints_the_golden_form() -> None:
    code, out, _ = _run("compile", f"{EXAMPLES}/hello.py:hello_wf")
    assert code == 0
    assert out == (EXAMPLES / "golden" / "hello.hello_wf.json").read_text()


HEAVY = [
    "google.protobuf",
    "grpc",
    "pandas",
    "numpy",
    "rich",
    "skyloom_core.compiler",
    "skyloom_idl",
]


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from skyloom.cli.main import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert "Commands:" in proc.stdout


@pytest.mark.integration
def test_real_process_runs_an_example(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "skyloom"
    env = {
        **os.environ,
        "SKYLOOM_LOCAL_CACHE": str(tmp_path / "c"),
        "SKYLOOM_LOCAL_RUNS": str(tmp_path / "r"),
    }
    proc = subprocess.run(
        [str(exe), "run", f"{EXAMPLES}/hello.py:hello_wf", "--name", "process"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'o0: "Hello, process!"\n'


def test_data_frame_flag_reads_a_parquet_file_and_the_second_run_is_cached(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pd.DataFrame({"x": [1, 2, None, 4]}).to_parquet(tmp_path / "d.parquet")
    wf = tmp_path / "frames.py"
    wf.write_text(
        "import pandas as pd\n"
        "from skyloom import task, workflow\n"
        "@task(cache=True, cache_version='1')\n"
        "def clean(df: pd.DataFrame, scale: int) -> pd.DataFrame:\n"
        "    return df.dropna() * scale\n"
        "@task\n"
        "def total(df: pd.DataFrame) -> int:\n"
        "    return int(df['x'].sum())\n"
        "@workflow\n"
        "def pipeline(df: pd.DataFrame) -> int:\n"
        "    return total(df=clean(df=df, scale=2))\n"
    )
    args = ["run", "--plain", f"{wf}:pipeline", "--df", str(tmp_path / "d.parquet")]
    code, out, err = _run(*args)
    assert code == 0, err
    assert out == "o0: 14\n"
    code, out, err = _run(*args)
    assert out == "o0: 14\n"
    assert "clean                CACHED" in err


def test_a_file_named_like_an_imported_module_is_refused(tmp_path: Path) -> None:
    clash = tmp_path / "json.py"
    clash.write_text("x = 1\n")
    code, _, err = _run("run", f"{clash}:x")
    assert code == 2
    assert "already" in err


def test_gates_prompt_for_what_flags_did_not_give(tmp_path: Path) -> None:
    wf = tmp_path / "asked.py"
    wf.write_text(GATED)
    result = CliRunner().invoke(
        main, ["run", "--plain", "--prompt", f"{wf}:wf", "--a", "1"], input="41\ny\n"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("o0: 42\n")


def test_run_a_launch_plan_uses_its_defaults() -> None:
    code, out, err = _run(
        "run", "--plain", f"{EXAMPLES}/ml_pipeline.py:nightly", "--learning-rates", "[0.2]"
    )
    assert code == 0, err
    assert json.loads(out.splitlines()[0].split(": ", 1)[1])["learning_rate"] == 0.2
