"""Attribution drift: per-feature z-tests of permutation importance (Holm), NDCG as the size.

The model is trained on its own data; the baseline is an independent validation draw, so
that under no change the baseline's and a window's importances estimate the same thing.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from monitor.baseline.reference import Baseline, create_baseline
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.profiles.dataset import build_profile
from monitor.signals.attribution_drift import (
    AttributionDriftSettings,
    evaluate,
    fit_attribution_part,
    importance_with_errors,
    judge_importances,
)
from monitor.signals.base import SignalContext
from monitor.spec.model_version import parse_model_version

FEATURES = ["f0", "f1", "f2", "f3"]
MV = parse_model_version({
    "name": "attr", "version": "1", "task": "binary", "features": dict.fromkeys(FEATURES, "numeric"),
    "target": "target", "prediction": "prediction", "scores": ["score"], "classes": ["0", "1"],
    "model_uri": "memory://attr",
})  # fmt: skip
SETTINGS = AttributionDriftSettings()


def _data(n: int, seed: int, informative: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=FEATURES)
    logit = 3 * X[f"f{informative}"] + 1.0 * X["f2"]
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)


@functools.cache
def _model() -> LogisticRegression:
    return LogisticRegression().fit(*_data(3000, 0))


@functools.cache
def _part(seed: int = 1) -> dict:
    X, y = _data(2000, seed)
    return fit_attribution_part(_model(), X, y, "binary", seed=seed)


def _judge(n: int, seed: int, alpha: float, informative: int = 0):
    X, y = _data(n, seed, informative)
    window = importance_with_errors(_model(), X, y, "binary", seed, n_repeats=5)
    return judge_importances(_part(), window, n, alpha=alpha, settings=SETTINGS)


def test_importance_is_the_accuracy_drop_under_the_same_shuffles() -> None:
    X, y = _data(500, 3)
    got = importance_with_errors(_model(), X, y, "binary", seed=7, n_repeats=3)
    rng = np.random.default_rng(7)
    base = accuracy_score(y, _model().predict(X))
    for col in FEATURES:
        drops = []
        for _ in range(3):
            shuffled = X.copy()
            shuffled[col] = X[col].to_numpy()[rng.permutation(len(X))]
            drops.append(base - accuracy_score(y, _model().predict(shuffled)))
        assert got[col][0] == pytest.approx(np.mean(drops), abs=1e-12)
        assert got[col][1] >= 0
    assert got["f0"][1] > 0  # the feature the model relies on moves rows both ways


@pytest.mark.parametrize("n", [100, 1000, 5000])
def test_false_alarm_rate_on_no_change_windows_is_within_alpha(n: int) -> None:
    sims = 80
    p = np.array([_judge(n, 10_000 * n + s, alpha=0.05).p_value for s in range(sims)])
    for a in (0.01, 0.05):
        assert (p <= a).mean() <= a + 3 * np.sqrt(a * (1 - a) / sims), a


def test_a_model_relying_on_another_feature_pages() -> None:
    """The label now follows f1 instead of f0: the ranking of what matters changes."""
    results = [_judge(1000, s, alpha=0.002, informative=1) for s in range(10)]
    assert all("f0" in r.details["changed"] and r.p_value < 1e-10 for r in results)
    assert sum(r.status == "alert" and r.value < 0.9 for r in results) >= 8


def test_evaluate_through_the_context() -> None:
    baseline = _baseline()
    assert set(baseline.performance["attribution"]["standard_error"]) == set(FEATURES)
    (r,) = _evaluate(_rows(800, 21))
    assert r.status == "ok" and r.metric == "ndcg" and r.correction == "holm" and r.alpha == 0.002
    assert r.min_effect == 0.1 and r.threshold == pytest.approx(0.9) and r.current_size == 800
    (moved,) = _evaluate(_rows(800, 22, informative=1))
    assert moved.status == "alert" and moved.effect_size > 0.1


def test_bad_inputs_are_no_data_or_error_with_the_reason() -> None:
    (few,) = _evaluate(_rows(5, 23))
    assert (
        few.status == "no_data"
        and "5 labelled rows; attribution drift needs at least 100" in few.message
    )
    (absent,) = _evaluate(_rows(300, 24), model=None)
    assert absent.status == "no_data" and "was not loaded for this run" in absent.message
    holes = _rows(300, 25)
    holes.loc[0, "f1"] = np.nan  # LogisticRegression refuses NaN: the row is left out, and counted
    holes.loc[1, "f1"] = np.inf
    (judged,) = _evaluate(holes)
    assert judged.status in ("ok", "warning") and judged.current_size == 298
    assert judged.details["rows_left_out_non_finite"] == 2

    class Failing:
        classes_ = np.array([0, 1])

        def predict(self, X: pd.DataFrame) -> None:
            raise RuntimeError("model server down")

    (failed,) = _evaluate(_rows(300, 26), model=Failing())
    assert failed.status == "error" and "permutation importance on the window failed" in failed.message
    assert "model server down" in failed.message


def _rows(n: int, seed: int, informative: int = 0) -> pd.DataFrame:
    X, y = _data(n, seed, informative)
    score = _model().predict_proba(X)[:, 1]
    return X.assign(
        score=score, prediction=(score >= 0.5).astype(int), target=y,
        request_id=[f"{seed}-{i}" for i in range(n)],
        timestamp=pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
    )  # fmt: skip


@functools.cache
def _baseline() -> Baseline:
    return create_baseline(MV, _rows(2000, 20), seed=0, threads=1, model=_model())


def _evaluate(window: pd.DataFrame, model: object = "default") -> list:
    baseline = _baseline()
    profile = build_profile([window.drop(columns="target")], baseline.window_plan(), threads=1)
    context = SignalContext(
        baseline=baseline, window=profile, labelled=window.rename(columns={"target": LABEL_COLUMN}),
        model=_model() if model == "default" else model, alphas={"attribution_drift": 0.002},
    )  # fmt: skip
    return evaluate(context, SETTINGS)
