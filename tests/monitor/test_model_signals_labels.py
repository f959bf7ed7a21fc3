"""Labels joined to a window by request id feed performance on exactly the labelled rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from monitor.signals.evaluate import WindowReport, evaluate_window
from monitor.spec.signal_config import SignalConfig
from tests.monitor.test_model_signals_world import credit_baseline, labels_of, logged, scored


def _run(window: pd.DataFrame, labels: pd.DataFrame | None, **kwargs) -> WindowReport:
    # Two batches, so the join has to work across batch boundaries.
    rows = logged(window)
    batches = [rows.iloc[: len(rows) // 2], rows.iloc[len(rows) // 2 :]]
    return evaluate_window(credit_baseline(), batches, labels=labels, threads=1, **kwargs)


def _signal(report: WindowReport, signal: str) -> dict[str, object]:
    return {r.metric: r for r in report.results if r.signal == signal}


def test_performance_equals_sklearn_on_exactly_the_labelled_rows() -> None:
    window = scored(1000, 31, prefix="w")
    labelled = window.sample(n=700, random_state=0)
    stray = pd.DataFrame({"request_id": [f"other-{i}" for i in range(300)], "label": 1})
    labels = pd.concat([labels_of(labelled), stray], ignore_index=True)

    report = _run(window, labels)

    assert report.details["labelled_rows"] == 700 and report.details["rows"] == 1000
    assert report.details["label_coverage"] == pytest.approx(0.7)
    y, pred, score = labelled["default"], labelled["prediction"], labelled["score"]
    expected = {
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred),
        "recall": recall_score(y, pred),
        "f1": f1_score(y, pred),
        "roc_auc": roc_auc_score(y, score),
        "log_loss": log_loss(y, score),
    }
    perf = _signal(report, "performance")
    assert set(perf) == set(expected)
    for metric, value in expected.items():
        assert perf[metric].value == pytest.approx(value, abs=1e-9), metric
        assert perf[metric].current_size == 700
    # The error stream the detectors saw is the labelled rows only (stray ids ignored).
    assert {r.current_size for r in _signal(report, "concept_drift").values()} == {700}
    # CBPE's estimates keep the realised value next to them once labels have arrived.
    estimated = _signal(report, "estimated_performance")
    assert list(estimated) == ["accuracy", "roc_auc", "f1"]
    for metric, r in estimated.items():
        assert r.status == "ok", r
        assert r.details["realised"] == pytest.approx(expected[metric], abs=1e-9), metric
        assert r.details["realised_rows"] == 700
        assert r.to_dict()["details"]["realised"] == r.details["realised"]  # stored as is


def test_cbpe_shows_no_realised_value_below_the_minimum_of_labels() -> None:
    window = scored(300, 36, prefix="w")
    few = _run(window, labels_of(window.iloc[:99]))
    assert {r.status for r in _signal(few, "estimated_performance").values()} == {"ok"}
    assert all("realised" not in r.details for r in _signal(few, "estimated_performance").values())
    enough = _signal(_run(window, labels_of(window.iloc[:100])), "estimated_performance")
    rows = window.iloc[:100]
    assert enough["f1"].details["realised"] == pytest.approx(
        f1_score(rows["default"], rows["prediction"]), abs=1e-9
    )
    assert enough["f1"].details["realised_rows"] == 100


def test_the_last_label_of_a_request_id_wins() -> None:
    window = scored(200, 32, prefix="w")
    wrong = labels_of(window).assign(label=1 - window["default"])
    report = _run(window, pd.concat([wrong, labels_of(window)], ignore_index=True))
    accuracy = _signal(report, "performance")["accuracy"].value
    assert accuracy == pytest.approx(accuracy_score(window["default"], window["prediction"]))
    assert report.details["labelled_rows"] == 200


def test_missing_label_values_are_not_labels() -> None:
    window = scored(600, 33, prefix="w")
    labels = labels_of(window).astype({"label": float})
    labels.loc[labels.index[:200], "label"] = np.nan
    report = _run(window, labels)
    assert report.details["labelled_rows"] == 400
    assert report.details["label_coverage"] == pytest.approx(400 / 600)
    rest = window.iloc[200:]
    perf = _signal(report, "performance")
    assert perf["accuracy"].value == pytest.approx(
        accuracy_score(rest["default"], rest["prediction"])
    )
    (drift,) = _signal(report, "concept_drift").values()
    assert drift.metric == "cusum"
    assert drift.current_size == 400  # a missing label is not a misclassification
    assert report.detector_state["n_seen"] == 400


@pytest.mark.parametrize(
    "labels",
    [None, pd.DataFrame({"request_id": ["elsewhere-1"], "label": [1]})],
    ids=["no-source", "none-match"],
)
def test_without_labels_model_signals_are_no_data_with_the_reason(
    labels: pd.DataFrame | None,
) -> None:
    window = scored(300, 34, prefix="w")
    report = _run(window, labels)
    why = (
        "no label source was given for this run"
        if labels is None
        else "no labels have arrived for this window yet"
    )
    # One no_data result per metric, each with the reason.
    perf = _signal(report, "performance")
    assert list(perf) == ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]
    assert {(r.status, r.value, r.message) for r in perf.values()} == {("no_data", None, why)}
    drift = _signal(report, "concept_drift")
    assert list(drift) == ["cusum"]
    assert {(r.status, r.message) for r in drift.values()} == {("no_data", why)}
    assert report.detector_state is None  # nothing fed, nothing to carry over
    # Label-free signals still run.
    assert {r.status for r in _signal(report, "estimated_performance").values()} == {"ok"}
    if labels is not None:
        assert report.details["label_coverage"] == 0.0


def test_fewer_labels_than_min_labels_is_no_data_naming_the_minimum() -> None:
    window = scored(300, 35, prefix="w")
    config = SignalConfig(performance={"min_labels": 50})
    report = _run(window, labels_of(window.iloc[:49]), config=config)
    perf = _signal(report, "performance")
    assert list(perf) == ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]
    assert {(r.status, r.value, r.current_size, r.message) for r in perf.values()} == {
        ("no_data", None, 49, "only 49 labelled rows; performance needs at least 50")
    }
    # The detectors need no minimum: every error continues the stream.
    assert {r.current_size for r in _signal(report, "concept_drift").values()} == {49}
    enough = _signal(_run(window, labels_of(window.iloc[:50]), config=config), "performance")
    assert enough["accuracy"].status == "ok" and enough["accuracy"].current_size == 50
