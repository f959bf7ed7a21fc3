"""MLflow for real: a model registered in a local tracking store and used through
``models:/credit-clf/1`` as a model version's ``model_uri`` (baseline create) and as the
model of ``rai.yaml`` (rai build)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

mlflow = pytest.importorskip("mlflow", reason="mlflow is in the dev extra: pip install -e '.[dev]'")

from jobs.cli import app  # noqa: E402
from monitor.store import Store  # noqa: E402

MODEL_NAME = "credit-clf"
FEATURES = ["age", "income", "sex"]


def _data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.normal(50, 15, n)})
    logit = 0.08 * (frame["age"] - 40) + 0.05 * (frame["income"] - 50)
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["sex"] = rng.choice(["female", "male"], n)
    return frame


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object, Path]]:
    """A logistic regression registered as version 1 of ``credit-clf`` in a file store."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    root = tmp_path_factory.mktemp("mlflow")
    # a local store: SQLite for runs and the registry (MLflow 3 retired the plain-file
    # backend), artifacts in a local folder; no tracking server
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.create_experiment(
        "raiwatch", artifact_location=(root / "artifacts").as_uri()
    )
    train = _data(600, 0)
    encode = ColumnTransformer(
        [("sex", OneHotEncoder(handle_unknown="ignore"), ["sex"])], remainder="passthrough"
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=500))
    model.fit(train[FEATURES], train["label"])
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name=MODEL_NAME,
            input_example=train[FEATURES].head(3),
        )  # fmt: skip
    assert info.registered_model_version == 1
    try:
        yield uri, model, root
    finally:
        mlflow.set_tracking_uri(previous)


def test_models_uri_loads_the_registered_model(registered: tuple[str, object, Path]) -> None:
    from monitor.baseline.model_loader import load_model as load_for_monitoring
    from rai.model import load_model as load_for_review

    _, model, _ = registered
    features = _data(50, 1)[FEATURES]
    expected = model.predict_proba(features)[:, 1]  # type: ignore[attr-defined]
    reviewed = load_for_review(f"models:/{MODEL_NAME}/1")
    np.testing.assert_allclose(reviewed.predict_proba(features)[:, 1], expected)
    monitored = load_for_monitoring(f"models:/{MODEL_NAME}/1")
    np.testing.assert_array_equal(
        np.asarray(monitored.predict(features)).ravel(),
        model.predict(features),  # type: ignore[attr-defined]
    )


def _baseline_with_models_uri(
    registered: tuple[str, object, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, object]:
    """``raiwatch baseline create`` for a model version whose ``model_uri`` is
    ``models:/credit-clf/1``; returns the stored baseline's model parts."""
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    train = _data(600, 2)
    train["score"] = registered[1].predict_proba(train[FEATURES])[:, 1]  # type: ignore[attr-defined]
    train["prediction"] = (train["score"] > 0.5).astype(int).astype(str)
    train["label"] = train["label"].astype(str)
    train.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "model.yaml").write_text(yaml.safe_dump({
        "name": "credit", "version": "1", "task": "binary",
        "features": {"age": "numeric", "income": "numeric", "sex": "categorical"},
        "prediction": "prediction", "scores": ["score"], "target": "label",
        "model_uri": f"models:/{MODEL_NAME}/1",
    }))  # fmt: skip
    result = CliRunner().invoke(
        app,
        [
            "baseline",
            "create",
            "-f",
            str(tmp_path / "model.yaml"),
            "-d",
            str(tmp_path / "train.csv"),
        ],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    store = Store(f"sqlite:///{tmp_path / 'home' / 'raiwatch.db'}")
    document, _ = store.load_baseline("credit", "1")
    store.dispose()
    assert document["model_version"]["model_uri"] == f"models:/{MODEL_NAME}/1"
    return dict(json.loads(json.dumps(document))["performance"])


def test_baseline_create_with_a_models_uri(
    registered: tuple[str, object, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = _baseline_with_models_uri(registered, tmp_path, monkeypatch)
    assert "error" not in parts["performance"]  # type: ignore[operator]


# attribution drift's own permutation importance takes the MLflow pyfunc model (it was a
# bug when sklearn's permutation_importance was used)
def test_baseline_importance_of_a_models_uri_model(
    registered: tuple[str, object, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attribution = _baseline_with_models_uri(registered, tmp_path, monkeypatch)["attribution"]
    assert isinstance(attribution, dict) and "error" not in attribution, attribution
    assert set(attribution["importance"]) == set(FEATURES)


def test_rai_build_with_a_models_uri(registered: tuple[str, object, Path], tmp_path: Path) -> None:
    from jobs.cli_rai import app as rai_app
    from rai.bundle import InsightsBundle

    _data(400, 3).to_csv(tmp_path / "train.csv", index=False)
    _data(300, 4).to_csv(tmp_path / "test.csv", index=False)
    config = {
        "model": f"models:/{MODEL_NAME}/1", "train": "train.csv", "test": "test.csv",
        "target": "label", "task": "binary", "categorical_features": ["sex"],
        "sensitive_features": ["sex"], "components": ["performance", "fairness"],
        "fairness": {"bootstrap": 10}, "gates": [{"metric": "accuracy", "min": 0.5}],
    }  # fmt: skip
    (tmp_path / "rai.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        rai_app, ["build", "-f", str(tmp_path / "rai.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    bundle = InsightsBundle.load(out)
    assert bundle.manifest["model"]["reference"] == f"models:/{MODEL_NAME}/1"
    assert bundle.components["performance"].ok
    assert all(v.passed for v in bundle.gate_verdicts())
