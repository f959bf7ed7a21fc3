"""CBPE: estimates within their band on calibrated data, closed forms, state round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitor.errors import DataError, NotFittedError
from monitor.signals.estimated_performance import CBPE, expected_metrics
from monitor.signals.performance import performance_metrics


def _binary(n: int, seed: int, power: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated scores p (y ~ Bernoulli(p)); ``power != 1`` logs p**power (miscalibrated)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 2, n)
    return p**power, (rng.uniform(size=n) < p).astype(int)


def _multiclass(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 3)) * 1.5
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return p, (rng.uniform(size=(n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)


def test_binary_estimates_cover_the_realised_metrics() -> None:
    cbpe = CBPE("binary", n_sim=100).fit(*_binary(4000, 0))
    assert cbpe.calibration_ == "identity"
    covered = dict.fromkeys(("accuracy", "roc_auc", "f1"), 0)
    for seed in range(1, 11):
        scores, y = _binary(800, seed)
        realised = performance_metrics("binary", y, (scores >= 0.5).astype(int), scores)
        for m, (est, low, high) in cbpe.estimate(scores).items():
            covered[m] += low <= realised[m] <= high
            assert low <= est <= high
            assert high - low < 0.1
    assert min(covered.values()) >= 9, covered


def test_multiclass_estimates_cover_the_realised_metrics() -> None:
    cbpe = CBPE("multiclass", n_sim=100).fit(*_multiclass(3000, 0))
    covered = dict.fromkeys(("accuracy", "roc_auc", "f1"), 0)
    for seed in range(1, 7):
        scores, y = _multiclass(600, seed)
        realised = performance_metrics("multiclass", y, scores.argmax(axis=1), scores)
        for m, (_, low, high) in cbpe.estimate(scores).items():
            covered[m] += low <= realised[m] <= high
    assert min(covered.values()) >= 5, covered  # a 95 % band, 6 windows


def test_isotonic_calibration_is_chosen_when_it_helps() -> None:
    scores, y = _binary(4000, 0, power=3.0)  # systematically too low
    cbpe = CBPE("binary", n_sim=100).fit(scores, y)
    assert cbpe.calibration_ == "isotonic"
    assert cbpe.cv_brier_["isotonic"] < cbpe.cv_brier_["identity"] - 0.1
    scores, y = _binary(1000, 7, power=3.0)
    realised = performance_metrics("binary", y, (scores >= 0.5).astype(int), scores)
    _, low, high = cbpe.estimate(scores)["accuracy"]
    assert low <= realised["accuracy"] <= high
    uncalibrated = CBPE("binary", calibration="identity", n_sim=100).fit(*_binary(4000, 0, 3.0))
    _, low, high = uncalibrated.estimate(scores)["accuracy"]
    assert not low <= realised["accuracy"] <= high  # calibration is what makes it right


def test_expected_accuracy_is_the_mean_of_the_largest_probability() -> None:
    p, _ = _multiclass(500, 4)
    assert expected_metrics(p, p, p.argmax(axis=1))["accuracy"] == pytest.approx(
        p.max(axis=1).mean(), abs=1e-12
    )
    q, _ = _binary(500, 4)
    est = expected_metrics(q, q, (q >= 0.5).astype(int))["accuracy"]
    assert est == pytest.approx(np.maximum(q, 1 - q).mean(), abs=1e-12)


def test_expected_auc_and_f1_match_brute_force() -> None:
    q, _ = _binary(150, 5)
    q = np.round(q, 2)  # ties
    s = q.copy()
    num = den = 0.0
    for i in range(q.size):
        for j in range(q.size):
            if i != j:
                w = q[i] * (1 - q[j])
                den += w
                num += w * (1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0)
    pred = (q >= 0.5).astype(int)
    tp, fp, fn = q[pred == 1].sum(), (1 - q[pred == 1]).sum(), q[pred == 0].sum()
    got = expected_metrics(q, s, pred)
    assert got["roc_auc"] == pytest.approx(num / den, abs=1e-12)
    assert got["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-12)


def test_state_round_trips_through_json_with_the_same_estimates() -> None:
    cbpe = CBPE("binary", n_sim=50, seed=3).fit(*_binary(2000, 0, power=3.0))
    again = CBPE.from_dict(json.loads(json.dumps(cbpe.to_dict())))
    scores, _ = _binary(300, 9, power=3.0)
    assert again.estimate(scores) == cbpe.estimate(scores)
    assert again.to_dict()["seed"] == 3


def test_string_classes_and_given_predictions() -> None:
    scores, y = _binary(2000, 0)
    labels = np.array(["stay", "churn"])[1 - y]  # positive class "churn" is classes[1]
    cbpe = CBPE("binary", classes=("stay", "churn"), n_sim=50).fit(scores, labels)
    w, _ = _binary(400, 1)
    preds = np.where(w >= 0.5, "churn", "stay")
    assert cbpe.estimate(w, preds) == cbpe.estimate(w)


def test_errors_are_clear() -> None:
    with pytest.raises(NotFittedError, match="not fitted; call fit"):
        CBPE("binary").estimate([0.2, 0.8])
    with pytest.raises(DataError, match="task must be 'binary' or 'multiclass', got 'regression'"):
        CBPE("regression")  # type: ignore[arg-type]
    with pytest.raises(
        DataError, match="at least 20 labelled reference rows to learn its calibration, got 3"
    ):
        CBPE("binary").fit([0.1, 0.5, 0.9, 0.3], [0, 1, 1, None])
    cbpe = CBPE("binary", n_sim=10).fit(*_binary(200, 0))
    with pytest.raises(DataError, match=r"probabilities in \[0, 1\]"):
        cbpe.estimate([0.2, 3.0])
