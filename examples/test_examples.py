"""Every example runs locally, and its compiled form matches the committed golden file.

Regenerate the golden files after a deliberate change with::

    SKYLOOM_UPDATE_GOLDEN=1 uv run pytest examples
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from skyloom import LocalConfig, execute
from skyloom.core.serialize import compiled_json
from skyloom.local.cache import LocalCache

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"


def load(name: str) -> ModuleType:
    """Import examples/<name>.py as module ``name`` (as ``skyloom run`` does)."""
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__file__", None) == str(HERE / f"{name}.py"):
        return module
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ENTITIES = [
    ("hello", "hello_wf"),
    ("ml_pipeline", "training_wf"),
    ("ml_pipeline", "nightly"),
    ("genomics_qc", "qc_wf"),
]


@pytest.mark.parametrize(("module", "name"), ENTITIES)
def test_compiled_form_matches_golden(module: str, name: str) -> None:
    actual = compiled_json(getattr(load(module), name))
    golden = GOLDEN / f"{module}.{name}.json"
    if os.environ.get("SKYLOOM_UPDATE_GOLDEN"):
        golden.write_text(actual)
    assert golden.exists(), f"no golden file {golden.name}; run with SKYLOOM_UPDATE_GOLDEN=1"
    assert actual == golden.read_text(), f"{golden.name} is stale (SKYLOOM_UPDATE_GOLDEN=1)"


def _config(tmp_path: Path) -> LocalConfig:
    return LocalConfig(cache=LocalCache(tmp_path / "cache"), run_dir=tmp_path / "runs")


def test_hello(tmp_path: Path) -> None:
    result = execute(load("hello").hello_wf, {"name": "Ada"}, config=_config(tmp_path))
    assert result.value == "Hello, Ada!"


def test_ml_pipeline_learns_the_line_and_caches_training(tmp_path: Path) -> None:
    mod = load("ml_pipeline")
    config = _config(tmp_path)
    inputs: dict[str, Any] = {"learning_rates": [0.05, 0.2], "epochs": 150}
    model, test_mse = execute(mod.training_wf, inputs, config=config).value
    assert model.weight == pytest.approx(3, abs=0.1)
    assert model.bias == pytest.approx(2, abs=0.1)
    assert test_mse < 0.05
    events: list[Any] = []
    config.on_event = events.append
    again = execute(mod.training_wf, inputs, config=config).value
    assert again == (model, test_mse)
    cached = {e.name for e in events if e.phase == "CACHED"}
    assert cached == {"load_data", "train"}


def test_genomics_qc_flags_the_low_quality_sample_and_writes_a_deck(tmp_path: Path) -> None:
    mod = load("genomics_qc")
    result = execute(mod.qc_wf, {"data_dir": str(HERE / "data")}, config=_config(tmp_path))
    assert result.value == 3  # sample3 has low base qualities
    (deck,) = result.decks.values()
    html = deck.read_text()
    assert "<svg" in html
    assert "sample3" in html
    assert "FAIL" in html
