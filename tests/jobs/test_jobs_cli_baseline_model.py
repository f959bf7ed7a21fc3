"""``raiwatch baseline create`` loads the model named by ``model_uri`` for attribution drift."""

from __future__ import annotations

import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from typer.testing import CliRunner

from jobs.cli import app
from monitor.baseline.reference import Baseline
from monitor.store import Store


def test_baseline_create_computes_the_models_importance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    rng = np.random.default_rng(5)
    n = 1500
    frame = pd.DataFrame({"income": rng.normal(50, 10, n), "purpose": rng.choice(["car", "home"], n)})
    frame["label"] = (frame["income"] + rng.normal(0, 3, n) > 50).astype(int)  # income decides
    model = Pipeline([
        ("pre", ColumnTransformer([("cat", OneHotEncoder(), ["purpose"])], remainder="passthrough")),
        ("clf", LogisticRegression(max_iter=500)),
    ]).fit(frame[["income", "purpose"]], frame["label"])  # fmt: skip
    joblib.dump(model, tmp_path / "model.joblib")
    frame["score"] = model.predict_proba(frame[["income", "purpose"]])[:, 1]
    frame["prediction"] = model.predict(frame[["income", "purpose"]])
    frame.to_csv(tmp_path / "ref.csv", index=False)
    (tmp_path / "model.yaml").write_text(yaml.safe_dump({
        "name": "loan", "version": "2", "task": "binary", "target": "label",
        "features": {"income": "numeric", "purpose": "categorical"}, "scores": ["score"],
        "model_uri": str(tmp_path / "model.joblib"),
    }))  # fmt: skip
    home = tmp_path / "home"
    result = CliRunner().invoke(app, ["baseline", "create", "-f", str(tmp_path / "model.yaml"),
                                      "--data", str(tmp_path / "ref.csv"), "--home", str(home)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "attribution: ready" in result.output and "performance: ready" in result.output
    doc, sample = Store(f"sqlite:///{home / 'raiwatch.db'}").load_baseline("loan", "2")
    importance = Baseline.from_document(doc, sample).performance["attribution"]["importance"]
    assert importance["income"] > 0.1 > abs(importance["purpose"])
