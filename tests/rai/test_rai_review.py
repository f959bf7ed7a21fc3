"""``raiwatch rai review`` takes the same rai.yaml as ``rai build`` and a missing-value policy."""

from __future__ import annotations

import os
from pathlib import Path

import joblib
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from jobs.cli import app
from monitor.ingest.logstore import LogStore
from monitor.store import Store
from rai.bundle import InsightsBundle
from tests.monitor.test_model_signals_world import (
    T0,
    credit_baseline,
    credit_model,
    credit_version,
    labels_of,
    logged,
    scored,
)

SETTINGS = {
    "model": "model.joblib",  # the keys of `rai build`, ignored by a review
    "train": "train.csv",
    "test": "test.csv",
    "out": "bundle",
    "components": ["performance", "fairness"],
    "fairness": {"bootstrap": 20, "permutations": 20},
    "gates": [{"metric": "accuracy", "min": 0.5}],
}


@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    joblib.dump(credit_model(), tmp_path / "model.joblib")
    mv = credit_version(model_uri=str(tmp_path / "model.joblib"))
    store = Store(f"sqlite:///{tmp_path}/raiwatch.db")
    store.migrate()
    store.register_model_version(mv)
    baseline = credit_baseline()
    doc = baseline.to_document()
    doc["model_version"] = mv.model_dump(mode="json")
    store.save_baseline(mv.name, mv.version, doc, baseline.sample_bytes())
    window = scored(500, 7)
    window.loc[window.index[:30], "income"] = np.nan  # 30 rows with a missing feature
    logs = LogStore(tmp_path)
    logs.ingest_frame(mv, logged(window))
    logs.ingest_labels_frame(mv, labels_of(window))
    (tmp_path / "rai.yaml").write_text(yaml.safe_dump(SETTINGS))
    return tmp_path


def _review(home: Path, *extra: str):
    args = ["rai", "review", "-m", "credit", "-v", "1", "--start", T0.date().isoformat(),
            "--end", "2026-10-02", "-f", str(home / "rai.yaml"), "--home", str(home),
            "--out", str(home / "out"), *extra]  # fmt: skip
    return CliRunner().invoke(app, args)


def test_review_accepts_the_build_yaml_and_refuses_nulls_by_default(world: Path) -> None:
    result = _review(world)
    assert result.exit_code == 2, result.output
    assert "income" in result.output and "missing: drop" in result.output


@pytest.mark.parametrize("policy", ["drop", "impute"])
def test_review_drops_or_imputes_missing_values(world: Path, policy: str) -> None:
    result = _review(world, "--missing", policy)
    assert result.exit_code == 0, result.output
    bundle = InsightsBundle.load(world / "out")
    report = bundle.manifest["missing"]
    assert report["policy"] == policy
    if policy == "drop":
        assert report["test_rows_dropped"] == 30
        assert bundle.components["performance"].summary["n_test"] == 470
    else:
        assert report["test_values_imputed"] == {"income": 30}
        assert bundle.components["performance"].summary["n_test"] == 500
    assert "PASS accuracy" in result.output


def test_unknown_missing_policy_names_the_options(world: Path) -> None:
    result = _review(world, "--missing", "guess")
    assert result.exit_code == 2
    assert "--missing must be 'refuse', 'drop' or 'impute', got 'guess'" in result.output
