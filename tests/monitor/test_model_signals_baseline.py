"""The model parts of a baseline: built from labelled reference rows, stored, used by windows."""

from __future__ import annotations

import json

import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from monitor.baseline.reference import Baseline, create_baseline
from monitor.signals.evaluate import evaluate_window
from tests.monitor.test_model_signals_world import (
    SEED,
    credit_baseline,
    credit_version,
    labels_of,
    logged,
    scored,
)

NO_REFERENCE = "no labelled reference data"


def _round_trip(baseline: Baseline) -> Baseline:
    document = json.loads(json.dumps(baseline.to_document(), allow_nan=False))
    return Baseline.from_document(document, baseline.sample_bytes())


def test_baseline_with_target_holds_reference_performance_equal_to_sklearn() -> None:
    baseline = credit_baseline()
    sample = baseline.profile.reservoir.to_pandas()
    assert len(sample) == 3000  # the reservoir holds every reference row here
    y, pred = sample["default"].astype(int), sample["prediction"].astype(int)
    perf = baseline.performance["performance"]
    assert perf["n"] == 3000 and perf["seed"] == SEED
    metrics = perf["metrics"]
    assert metrics["accuracy"]["value"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    assert metrics["f1"]["value"] == pytest.approx(f1_score(y, pred), abs=1e-12)
    assert metrics["roc_auc"]["value"] == pytest.approx(
        roc_auc_score(y, sample["score"]), abs=1e-12
    )
    low, high = metrics["accuracy"]["low"], metrics["accuracy"]["high"]
    assert low < metrics["accuracy"]["value"] < high and metrics["accuracy"]["std"] > 0


def test_baseline_with_target_holds_a_cbpe_calibration_and_its_realised_reference() -> None:
    baseline = credit_baseline()
    sample = baseline.profile.reservoir.to_pandas()
    cbpe = baseline.performance["cbpe"]
    assert set(cbpe) == {
        "state", "reference", "reference_estimate", "estimate_sd_unit", "reference_size",
        "calibration_rows", "n_boot", "seed", "dropped_non_finite",
    }  # fmt: skip
    # Calibration learnt on one half of the labelled reference, the estimate made on the other.
    assert (cbpe["calibration_rows"], cbpe["reference_size"], cbpe["seed"]) == (1500, 1500, SEED)
    assert cbpe["dropped_non_finite"] == 0
    assert cbpe["state"]["calibration_"] in ("isotonic", "identity")
    ref = cbpe["reference"]
    y, pred = (
        sample["default"].astype(int),
        sample["prediction"].astype(int),
    )  # reservoir keeps text
    assert ref["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    assert ref["roc_auc"] == pytest.approx(roc_auc_score(y, sample["score"]), abs=1e-12)
    assert ref["f1"] == pytest.approx(f1_score(y, pred), abs=1e-12)
    # The model is calibrated: the held-out estimate is close to the realised reference, and
    # each estimate's spread is positive (the z-test divides by it).
    for metric in ("accuracy", "roc_auc", "f1"):
        assert cbpe["reference_estimate"][metric] == pytest.approx(ref[metric], abs=0.03), metric
        assert cbpe["estimate_sd_unit"][metric] > 0
    # No model was given: attribution says why instead of being missing.
    assert baseline.performance["attribution"] == {
        "error": "the model version names no loadable model (model_uri)"
    }


def test_model_parts_survive_the_stored_document() -> None:
    baseline = credit_baseline()
    again = _round_trip(baseline)
    assert again.performance == json.loads(json.dumps(baseline.performance))  # tuples become lists
    window = scored(600, 21, prefix="w")
    first = evaluate_window(baseline, [logged(window)], labels=labels_of(window), threads=1)
    second = evaluate_window(again, [logged(window)], labels=labels_of(window), threads=1)
    model_signals = ("performance", "estimated_performance", "concept_drift")
    pick = [r.to_dict() for r in first.results if r.signal in model_signals]
    assert pick == [r.to_dict() for r in second.results if r.signal in model_signals]
    assert {r["status"] for r in pick} == {"ok"}


@pytest.mark.parametrize(
    ("changes", "drop_target", "why"),
    [
        ({"target": None}, False, "the model version declares no target column"),
        ({}, True, "the reference data has no values in the target column 'default'"),
    ],
    ids=["no-target-declared", "target-column-absent"],
)
def test_without_labelled_reference_every_part_is_an_error_and_windows_say_why(
    changes: dict, drop_target: bool, why: str
) -> None:
    mv = credit_version(**changes)
    reference = scored(1000, 2)
    baseline = create_baseline(
        mv, reference.drop(columns="default") if drop_target else reference, threads=1
    )
    assert set(baseline.performance) == {"performance", "cbpe", "attribution", "multivariate"}
    # Multivariate drift reads inputs only: it needs no labels and is fitted anyway.
    assert "error" not in baseline.performance["multivariate"]
    for name, part in baseline.performance.items():
        if name == "multivariate":
            continue
        assert set(part) == {"error"}
        assert part["error"].startswith(f"{NO_REFERENCE}: {why}")
    stored = _round_trip(baseline)
    assert stored.performance == baseline.performance

    window = scored(400, 22, prefix="w")
    report = evaluate_window(stored, [logged(window)], labels=labels_of(window), threads=1)
    perf = [r for r in report.results if r.signal == "performance"]
    estimated = [r for r in report.results if r.signal == "estimated_performance"]
    assert [r.metric for r in perf] == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
    ]
    assert [r.metric for r in estimated] == ["accuracy", "roc_auc", "f1"]
    drift = [r for r in report.results if r.signal == "concept_drift"]
    assert [r.metric for r in drift] == ["cusum"]
    for r in perf + estimated + drift:
        assert r.status == "no_data" and r.message.startswith(NO_REFERENCE), r
    assert report.status != "error"  # a baseline without labels is not a failed run
    # Without labels in the window either, the baseline's reason is still what is said.
    bare = evaluate_window(stored, [logged(window)], threads=1)
    for r in bare.results:
        if r.signal in ("performance", "estimated_performance"):
            assert r.status == "no_data" and r.message.startswith(NO_REFERENCE), r
    # The window's own accuracy is still shown next to the missing reference.
    accuracy = next(r for r in perf if r.metric == "accuracy")
    assert accuracy.value == pytest.approx(
        accuracy_score(window["default"], window["prediction"]), abs=1e-12
    )
