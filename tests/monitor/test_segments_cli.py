"""Segments from the command line: ``baseline create --segments`` and ``monitor run --config``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from jobs.cli import app
from monitor.errors import SchemaError
from tests.monitor.segment_world import world_rows

MODEL_YAML = """\
name: seg
version: '1'
task: binary
prediction: null
features: {x0: numeric, x1: numeric, x2: numeric, x3: numeric, region: categorical}
"""
MONITOR_YAML = """\
name: seg-daily
model: seg
version: '1'
signals: {alpha: 0.01}
segments:
  - feature: region
    min_rows: 300
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")


def test_baseline_with_segments_then_a_run_that_finds_the_segment(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "model.yaml").write_text(MODEL_YAML)
    (tmp_path / "monitor.yaml").write_text(MONITOR_YAML)
    world_rows(np.random.default_rng(0), 20_000).to_parquet(tmp_path / "ref.parquet")
    world_rows(np.random.default_rng(1), 10_000, shift=0.4).to_parquet(tmp_path / "cur.parquet")
    runner = CliRunner()
    made = runner.invoke(app, ["baseline", "create", "-f", "model.yaml", "--data", "ref.parquet",
                               "--segments", "monitor.yaml", "--home", str(home)])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "segments: region=" in made.output
    ran = runner.invoke(app, ["monitor", "run", "-m", "seg", "-v", "1", "--file", "cur.parquet", "--config", "monitor.yaml",
                              "--json", "out.json", "--home", str(home)])  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert "region=r3" in ran.output  # the segment column of the table
    results = json.loads((tmp_path / "out.json").read_text())["results"]
    r3 = [r for r in results if r["segment"] == "region=r3" and r["feature"] == "x0" and r["signal"] == "data_drift"]
    assert r3 and r3[0]["status"] == "alert"


def test_segments_file_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "model.yaml").write_text(MODEL_YAML)
    (tmp_path / "bad.yaml").write_text("segments: [{feature: region, cohorts_from: b}]\n")
    world_rows(np.random.default_rng(0), 2000).to_parquet(tmp_path / "ref.parquet")
    out = CliRunner().invoke(app, ["baseline", "create", "-f", "model.yaml", "--data", "ref.parquet",
                                   "--segments", "bad.yaml", "--home", str(tmp_path / "h")])  # fmt: skip
    assert isinstance(out.exception, SchemaError)  # `raiwatch` exits 2 with this message
    assert "bad.yaml" in str(out.exception) and "exactly one of 'feature" in str(out.exception)
