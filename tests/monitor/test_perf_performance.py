"""Performance metrics against scikit-learn, bootstrap baselines and performance signals."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from monitor.errors import DataError
from monitor.signals.performance import (
    NO_LABELS,
    BaselinePerformance,
    PerformanceSettings,
    WindowPerformance,
    baseline_performance,
    bootstrap_intervals,
    judge_metrics,
    performance_metrics,
    window_performance,
)


def _judge(w: WindowPerformance, base: BaselinePerformance) -> list:
    sizes = dict.fromkeys(w.metrics, w.n)
    return judge_metrics(
        w.metrics, sizes, base, alpha=0.01, settings=PerformanceSettings(), undefined=w.undefined
    )


def _binary(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n)
    y = (rng.uniform(0, 1, n) < p).astype(int)
    return y, (p > 0.5).astype(int), p


def _multiclass(n: int = 500, k: int = 3, seed: int = 1):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in p])
    return y, p.argmax(axis=1), p


def test_binary_metrics_match_sklearn() -> None:
    y, pred, p = _binary()
    got = performance_metrics("binary", y, pred, p)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred), abs=1e-12)
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-12)
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, p), abs=1e-9)


def test_binary_auc_with_ties_and_string_labels_match_sklearn() -> None:
    y, pred, p = _binary(300, seed=3)
    p = np.round(p, 1)  # many ties
    labels = np.array(["no", "yes"])
    got = performance_metrics("binary", labels[y], labels[pred], p)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert got["f1"] == pytest.approx(skm.f1_score(labels[y], labels[pred], pos_label="yes"))


def test_multiclass_metrics_match_sklearn() -> None:
    y, pred, p = _multiclass()
    got = performance_metrics("multiclass", y, pred, p, classes=["0", "1", "2"])
    kw = {"average": "macro", "labels": [0, 1, 2], "zero_division": np.nan}
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, **kw))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred, **kw))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, **kw))
    assert got["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr", average="macro")
    )
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, p), abs=1e-9)


def test_regression_metrics_match_sklearn_and_closed_form() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=0.5, size=200)
    got = performance_metrics("regression", y, pred)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, pred)))
    assert got["r2"] == pytest.approx(skm.r2_score(y, pred))
    # closed form: y = [0, 2], pred = [1, 1] -> MAE 1, RMSE 1, R² = 1 - 2/2 = 0
    assert performance_metrics("regression", [0, 2], [1, 1]) == {"mae": 1, "rmse": 1, "r2": 0}


def test_one_class_window_keeps_accuracy_and_explains_roc_auc() -> None:
    w = window_performance("binary", [1, 1, 1], [1, 0, 1], [0.9, 0.3, 0.8])
    assert w.metrics["accuracy"] == pytest.approx(2 / 3)
    assert math.isnan(w.metrics["roc_auc"])
    base = baseline_performance("binary", *_binary(), n_boot=20)
    res = {r.metric: r for r in _judge(w, base)}
    assert res["roc_auc"].status == "no_data"
    assert "only" in res["roc_auc"].message and "[1]" in res["roc_auc"].message
    assert res["accuracy"].status in ("ok", "warning", "alert")


def test_unlabelled_rows_are_dropped_and_no_labels_gives_no_data() -> None:
    w = window_performance("binary", [1, None, 0, np.nan], [1, 0, 0, 1], [0.8, 0.2, 0.1, 0.6])
    assert (w.n, w.n_unlabelled, w.metrics["accuracy"]) == (2, 2, 1.0)
    empty = window_performance("binary", [None, None], [0, 1], [0.1, 0.9])
    base = baseline_performance("binary", *_binary(), n_boot=20)
    res = _judge(empty, base)
    assert {r.status for r in res} == {"no_data"}
    assert all(NO_LABELS in r.message for r in res)


def test_no_labelled_reference_data_says_why() -> None:
    with pytest.raises(DataError, match="reference data has no labels"):
        baseline_performance("binary", [None, None], [0, 1], [0.2, 0.7])


@pytest.mark.parametrize(
    ("task", "scores", "match"),
    [
        ("binary", [0.2, 1.3, 0.5], r"probabilities in \[0, 1\].*\[0.2, 1.3\]"),
        ("binary", [0.2, -0.1, 0.5], r"not logits"),
        ("multiclass", [[0.5, 0.5, 0.0], [0.2, 0.2, 0.2], [0.1, 0.1, 0.8]], r"row 1 sums to 0.6"),
        ("multiclass", [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], r"shape \(3, 2\); expected \(3, 3\)"),
    ],
)
def test_bad_scores_raise_data_error(task, scores, match) -> None:
    y = [0, 1, 0] if task == "binary" else [0, 1, 2]
    with pytest.raises(DataError, match=match):
        performance_metrics(task, y, y, scores)


def test_wrong_label_types_raise_data_error() -> None:
    with pytest.raises(DataError, match=r"y_true holds \['str'\] values, y_pred holds \['int'\]"):
        performance_metrics("binary", ["no", "yes", "no"], [0, 1, 0])
    with pytest.raises(DataError, match=r"2 classes, found \['0', '1', 'no'\]"):
        performance_metrics("binary", ["no", "no"], ["0", "1"])
    with pytest.raises(DataError, match=r"non-integer value 0.7.*regression"):
        performance_metrics("binary", [0.7, 1.0], [0, 1])
    with pytest.raises(DataError, match=r"labels \['maybe'\] that are not classes"):
        performance_metrics("binary", ["yes", "maybe"], ["yes", "no"], classes=("no", "yes"))
    with pytest.raises(
        DataError, match="task must be 'binary', 'multiclass' or 'regression', got 'clf'"
    ):
        performance_metrics("clf", [0, 1], [0, 1])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="regression labels and predictions must be numeric"):
        performance_metrics("regression", ["a", "b"], [1.0, 2.0])


def test_bootstrap_intervals_are_seeded_and_contain_the_value() -> None:
    y, pred, p = _binary(300)
    a = bootstrap_intervals("binary", y, pred, p, n_boot=50, seed=7)
    assert a == bootstrap_intervals("binary", y, pred, p, n_boot=50, seed=7)
    value = performance_metrics("binary", y, pred, p)
    for m, (low, high) in a.items():
        assert low <= value[m] <= high, m
        assert high - low < 0.25, m


def test_baseline_round_trips_through_json() -> None:
    base = baseline_performance("multiclass", *_multiclass(200), n_boot=20, seed=3)
    again = BaselinePerformance.from_dict(json.loads(json.dumps(base.to_dict())))
    assert again == base
    assert base.seed == 3
