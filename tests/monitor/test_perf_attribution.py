"""Attribution drift (NDCG against scikit-learn, permutation importance) and model loading."""

from __future__ import annotations

import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ndcg_score

from monitor.baseline.model_loader import ModelLoadError, load_model
from monitor.errors import DataError, NotFoundError
from monitor.signals.attribution_drift import importance_on_window, ndcg


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [None, 1, 3])
def test_ndcg_matches_sklearn_including_ties(seed: int, k: int | None) -> None:
    rng = np.random.default_rng(seed)
    gain = rng.integers(0, 4, 6).astype(float)
    gain[0] = 1.0  # at least one relevant feature
    score = rng.integers(0, 3, 6).astype(float)  # many ties
    names = [f"f{i}" for i in range(6)]
    got = ndcg(dict(zip(names, gain, strict=True)), dict(zip(names, score, strict=True)), k)
    assert got == pytest.approx(ndcg_score([gain], [score], k=k), abs=1e-12)


def test_ndcg_closed_form_and_edge_cases() -> None:
    # window order b, a: DCG = 1/log2(2) + 2/log2(3); ideal = 2 + 1/log2(3)
    expected = (1 + 2 / np.log2(3)) / (2 + 1 / np.log2(3))
    assert ndcg({"a": 2.0, "b": 1.0}, {"a": 0.1, "b": 0.5}) == pytest.approx(expected)
    assert ndcg({"a": 2.0, "b": 1.0}, {"a": 0.9, "b": 0.5}) == 1.0
    # a feature absent from the window counts as 0; negative baseline importance as 0
    assert ndcg({"a": 2.0, "b": -1.0}, {"b": 0.3}) == pytest.approx(1 / np.log2(3))
    with pytest.raises(DataError, match="no feature has a positive baseline importance"):
        ndcg({"a": 0.0, "b": -0.1}, {"a": 1.0})


def _data(n: int, seed: int, informative: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["f0", "f1", "f2", "f3"])
    logit = 3 * X[f"f{informative}"] + 0.5 * X["f2"]
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_importance_input_errors() -> None:
    with pytest.raises(DataError, match="X has 3 rows but y has 2"):
        importance_on_window(None, pd.DataFrame({"a": [1, 2, 3]}), [0, 1], "binary")


def test_load_model_from_joblib_and_pickle(tmp_path) -> None:
    X, y = _data(200, 0, informative=0)
    model = LogisticRegression().fit(X, y)
    for name in ("m.joblib", "m.pkl"):
        joblib.dump(model, tmp_path / name)
        loaded = load_model(str(tmp_path / name))
        assert (loaded.predict(X) == model.predict(X)).all()
    assert load_model(f"file://{tmp_path / 'm.pkl'}").coef_.tolist() == model.coef_.tolist()


def test_load_model_errors(tmp_path, monkeypatch) -> None:
    with pytest.raises(NotFoundError, match="does not exist; check model_uri"):
        load_model(str(tmp_path / "absent.pkl"))
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match=r"suffix '.onnx'; supported: \['.joblib'"):
        load_model(str(tmp_path / "m.onnx"))
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle at all")
    with pytest.raises(ModelLoadError, match="not a readable joblib/pickle file"):
        load_model(str(tmp_path / "bad.pkl"))
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if mlflow were not installed
    with pytest.raises(ModelLoadError, match="mlflow is not installed; pip install mlflow"):
        load_model("models:/credit/1")
    (tmp_path / "mlmodel").mkdir()
    (tmp_path / "mlmodel" / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(ModelLoadError, match="pip install mlflow"):
        load_model(str(tmp_path / "mlmodel"))
