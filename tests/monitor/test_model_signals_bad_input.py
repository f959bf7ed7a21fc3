"""Bad or thin input to the model signals: a clear status with a reason, never a crashed run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error, r2_score

from monitor.baseline.reference import create_baseline
from monitor.ingest.logstore import LogStore
from monitor.signals.evaluate import WindowReport, evaluate_window
from monitor.spec.model_version import parse_model_version
from tests.monitor.test_model_signals_world import (
    T0,
    credit_baseline,
    credit_version,
    labels_of,
    logged,
    scored,
)


def _by(report: WindowReport, signal: str) -> dict[str, object]:
    return {r.metric: r for r in report.results if r.signal == signal}


# --- regression ----------------------------------------------------------------------------

REGRESSION = parse_model_version({
    "name": "price", "version": "1", "task": "regression",
    "features": {"x1": "numeric", "x2": "numeric", "x3": "numeric"},
    "target": "y", "prediction": "pred",
})  # fmt: skip


def _regression_rows(n: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    pred = 2 * x[:, 0] - x[:, 1]
    return pd.DataFrame({
        "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "pred": pred,
        "y": pred + rng.normal(0, 0.5, n),
        "request_id": [f"{prefix}{i}" for i in range(n)],
        "timestamp": T0 + pd.to_timedelta(np.arange(n), unit="s"),
    })  # fmt: skip


def test_regression_labels_of_the_wrong_type_are_quarantined_and_the_rest_are_used(
    tmp_path: Path,
) -> None:
    baseline = create_baseline(REGRESSION, _regression_rows(1000, 0, "r"), threads=1)
    window = _regression_rows(300, 1, "w")
    logs = LogStore(tmp_path)
    assert logs.ingest_frame(REGRESSION, window.drop(columns="y")).accepted == 300
    labels = pd.DataFrame({"request_id": window["request_id"], "label": window["y"].astype(object)})
    labels.loc[:9, "label"] = "high"
    report = logs.ingest_labels_frame(REGRESSION, labels)
    assert (report.accepted, report.quarantined, report.reasons) == (290, 10, {"invalid_label": 10})
    quarantined = logs.read_quarantine(REGRESSION)
    assert set(quarantined["reason"]) == {"invalid_label: a regression label must be a number"}
    assert '"label":"high"' in quarantined["row"].iloc[0]

    result = evaluate_window(
        baseline, logs.scan(REGRESSION), labels=logs.read_labels(REGRESSION), threads=1
    )
    assert result.details["labelled_rows"] == 290
    rest = window.iloc[10:]
    perf = _by(result, "performance")
    assert perf["mae"].value == pytest.approx(
        mean_absolute_error(rest["y"], rest["pred"]), abs=1e-9
    )
    assert perf["rmse"].value == pytest.approx(
        mean_squared_error(rest["y"], rest["pred"]) ** 0.5, abs=1e-9
    )
    assert perf["r2"].value == pytest.approx(r2_score(rest["y"], rest["pred"]), abs=1e-9)
    # Estimated performance (CBPE) is for classifiers: a regression run has none.
    assert _by(result, "estimated_performance") == {}
    # Real-valued errors: the CUSUM watches the absolute errors' scale, on the 290 labels.
    (drift,) = _by(result, "concept_drift").values()
    assert (drift.metric, drift.status, drift.current_size) == ("cusum", "ok", 290)
    assert result.detector_state["detectors"]["cusum"]["params"]["kind"] == "scale"


# --- classification ------------------------------------------------------------------------


def test_a_window_with_one_class_has_no_roc_auc_but_an_accuracy() -> None:
    window = scored(400, 51, prefix="w")
    negatives = window[window["default"] == 0]
    report = evaluate_window(
        credit_baseline(), [logged(window)], labels=labels_of(negatives), threads=1
    )
    perf = _by(report, "performance")
    assert perf["roc_auc"].status == "no_data" and perf["roc_auc"].value is None
    assert perf["roc_auc"].message == (
        "ROC AUC is undefined: the window holds labels of ['0'] only; it needs every class of ['0', '1']"
    )
    assert perf["recall"].status == "no_data"
    assert perf["recall"].message == "recall is undefined: no positive labels in the window"
    expected = accuracy_score(negatives["default"], negatives["prediction"])
    assert perf["accuracy"].value == pytest.approx(expected, abs=1e-12)
    assert perf["accuracy"].status in ("ok", "warning", "alert")


def test_scores_outside_unit_interval_give_an_error_result_not_a_crash(tmp_path: Path) -> None:
    mv = credit_version()
    window = scored(500, 52, prefix="w")
    window.loc[window.index[:5], "score"] = 1.7  # a logit-like value logged by mistake
    logs = LogStore(tmp_path)
    assert logs.ingest_frame(mv, logged(window)).accepted == 500
    report = evaluate_window(credit_baseline(), logs.scan(mv), labels=labels_of(window), threads=1)

    why = (
        "scores must be probabilities in [0, 1] without missing values, got range "
        f"[{window['score'].min():.4g}, 1.7]; log predict_proba, not logits or margins"
    )
    perf = _by(report, "performance")
    # accuracy, precision, recall and F1 need no scores; ROC AUC and log loss cannot use them
    assert {m: r.status for m, r in perf.items()} == {
        "accuracy": "ok", "precision": "ok", "recall": "ok", "f1": "ok", "roc_auc": "error", "log_loss": "error",
    }  # fmt: skip
    assert perf["roc_auc"].message == f"the window's scores cannot be used: {why}"
    estimated = _by(report, "estimated_performance")
    assert {r.status for r in estimated.values()} == {"error"}
    assert estimated["accuracy"].message == f"CBPE could not estimate this window: {why}"
    # The error stream needs no scores: the detectors still run.
    assert {r.status for r in _by(report, "concept_drift").values()} == {"ok"}
    assert report.status == "error"


def test_multivariate_drift_on_too_few_sampled_rows_is_no_data() -> None:
    window = scored(40, 53, prefix="w")
    report = evaluate_window(credit_baseline(), [logged(window)], threads=1)
    (result,) = [r for r in report.results if r.signal == "multivariate_drift"]
    assert (result.metric, result.status, result.current_size) == (
        "pca_reconstruction_error",
        "no_data",
        40,
    )
    assert result.message == "the window has 40 sampled rows; multivariate drift needs at least 50"


def test_multivariate_drift_on_a_too_small_baseline_names_the_baseline() -> None:
    baseline = create_baseline(credit_version(), scored(40, 54), threads=1)
    report = evaluate_window(baseline, [logged(scored(500, 55, prefix="w"))], threads=1)
    (result,) = [r for r in report.results if r.signal == "multivariate_drift"]
    assert (result.status, result.current_size) == ("no_data", 500)
    assert result.message.startswith(
        "the baseline sample has 40 usable rows; PCA reconstruction drift needs at least 100"
    )
