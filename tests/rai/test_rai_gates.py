"""Gate verdicts: bounds, worst-feature choice, missing and failed components."""

from __future__ import annotations

from rai.gates import GateSpec, evaluate_gates, gate_metrics
from rai.results import ComponentResult


def _components() -> dict[str, ComponentResult]:
    fairness = {
        "features": {
            "sex": {
                "aggregates": {
                    "demographic_parity_difference": 0.08,
                    "demographic_parity_ratio": 0.9,
                }
            },
            "race": {
                "aggregates": {
                    "demographic_parity_difference": 0.2,
                    "demographic_parity_ratio": 0.7,
                }
            },
        }
    }
    return {
        "performance": ComponentResult("performance", summary={"metrics": {"accuracy": 0.81}}),
        "fairness": ComponentResult("fairness", summary=fairness),
        "counterfactual": ComponentResult("counterfactual", "failed", error="TimeoutError: slow"),
    }


def test_min_and_max_bounds() -> None:
    verdicts = evaluate_gates(
        (
            GateSpec("accuracy", min=0.8),
            GateSpec("accuracy", min=0.9),
            GateSpec("accuracy", min=0.7, max=0.8),
        ),
        _components(),
    )
    assert [v.passed for v in verdicts] == [True, False, False]
    assert verdicts[0].value == 0.81
    assert verdicts[1].reason == "0.81 is not >= 0.9"
    assert verdicts[2].reason == "0.81 is not >= 0.7 and <= 0.8"


def test_named_feature_versus_worst_feature() -> None:
    verdicts = evaluate_gates(
        (
            GateSpec("demographic_parity_difference", max=0.1, sensitive_feature="sex"),
            GateSpec("demographic_parity_difference", max=0.1),
            GateSpec("demographic_parity_ratio", min=0.8),
        ),
        _components(),
    )
    assert [(v.value, v.passed) for v in verdicts] == [(0.08, True), (0.2, False), (0.7, False)]


def test_failed_and_missing_components_fail_with_reason() -> None:
    components = _components()
    del components["performance"]
    failed, missing = evaluate_gates(
        (GateSpec("counterfactual_validity", min=0.9), GateSpec("accuracy", min=0.5)), components
    )
    assert not failed.passed and failed.value is None
    assert failed.reason == "component 'counterfactual' failed: TimeoutError: slow"
    assert not missing.passed and missing.reason == "component 'performance' was not run"


def test_metric_catalogue_per_task() -> None:
    assert gate_metrics("binary")["equalized_odds_difference"] == "fairness"
    assert "equalized_odds_difference" not in gate_metrics("regression")
    assert gate_metrics("regression")["rmse"] == "performance"
    assert gate_metrics("multiclass")["macro_recall_difference"] == "fairness"
    assert GateSpec("accuracy", min=0.7, max=0.9).threshold_text == ">= 0.7 and <= 0.9"
