"""Release gates: a metric, an optional sensitive feature and a min and/or max bound.

Gates are declared in YAML, e.g. ``{metric: demographic_parity_difference,
sensitive_feature: sex, max: 0.1}``, and judged against the figures stored in an
insights bundle. A gate whose component failed fails with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rai.errors import RaiConfigError
from rai.results import ComponentResult

CLASSIFICATION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS = ("mae", "rmse", "r2")
BINARY_FAIRNESS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
)
GROUP_METRICS = {
    "binary": ("selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision"),
    "multiclass": ("accuracy", "macro_recall", "macro_precision"),
    "regression": ("mae", "rmse", "mean_prediction"),
}
OTHER_METRICS = {"counterfactual_validity": "counterfactual"}


def gate_metrics(task: str) -> dict[str, str]:
    """Map every metric a gate may use for ``task`` to the component that computes it."""
    perf = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    metrics = {m: "performance" for m in perf}
    if task == "binary":
        metrics.update({m: "fairness" for m in BINARY_FAIRNESS})
    for group_metric in GROUP_METRICS[task]:
        metrics[f"{group_metric}_difference"] = "fairness"
        metrics[f"{group_metric}_ratio"] = "fairness"
    metrics.update(OTHER_METRICS)
    return metrics


@dataclass(frozen=True)
class GateSpec:
    """One release gate; at least one of ``min`` and ``max`` is set."""

    metric: str
    min: float | None = None
    max: float | None = None
    sensitive_feature: str | None = None

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "gate") -> GateSpec:
        """Build a gate from ``{metric, min?, max?, sensitive_feature?}``."""
        allowed = {"metric", "min", "max", "sensitive_feature"}
        if not isinstance(data, dict) or "metric" not in data:
            raise RaiConfigError(f"{where} must be a mapping with a 'metric' key, got {data!r}.")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise RaiConfigError(f"{where} has unknown key(s) {unknown}; valid: {sorted(allowed)}.")
        if data.get("min") is None and data.get("max") is None:
            raise RaiConfigError(f"{where} ({data['metric']}) needs 'min' or 'max'.")
        return cls(
            metric=str(data["metric"]),
            min=None if data.get("min") is None else float(data["min"]),
            max=None if data.get("max") is None else float(data["max"]),
            sensitive_feature=data.get("sensitive_feature"),
        )

    def check_against(self, task: str, sensitive_features: tuple[str, ...]) -> None:
        """Raise when the metric is unknown for ``task`` or the feature is not sensitive."""
        valid = gate_metrics(task)
        if self.metric not in valid:
            raise RaiConfigError(
                f"Gate metric {self.metric!r} is not available for task {task!r}; "
                f"valid: {sorted(valid)}."
            )
        if self.sensitive_feature is not None and self.sensitive_feature not in sensitive_features:
            raise RaiConfigError(
                f"Gate {self.metric!r} names sensitive_feature {self.sensitive_feature!r}, which "
                f"is not in sensitive_features {list(sensitive_features)}; add it there."
            )

    @property
    def threshold_text(self) -> str:
        """Human form of the bound, e.g. ``"<= 0.1"``."""
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class GateVerdict:
    """A gate with its measured value, verdict and (when failing) reason."""

    gate: GateSpec
    value: float | None
    passed: bool
    reason: str


def evaluate_gates(
    gates: tuple[GateSpec, ...], components: Mapping[str, ComponentResult]
) -> list[GateVerdict]:
    """Judge every gate against component results.

    Parameters
    ----------
    gates : tuple of GateSpec
    components : mapping of component name to ComponentResult

    Returns
    -------
    list of GateVerdict
        In gate order; a gate whose component is missing or failed does not pass.
    """
    verdicts = []
    for gate in gates:
        source = _source_component(gate.metric)
        result = components.get(source)
        if result is None or not result.ok:
            why = "was not run" if result is None else f"failed: {result.error}"
            verdicts.append(GateVerdict(gate, None, False, f"component {source!r} {why}"))
            continue
        value = _measure(gate, result)
        if value is None:
            verdicts.append(GateVerdict(gate, None, False, "metric not available in the bundle"))
            continue
        passed = (gate.min is None or value >= gate.min) and (gate.max is None or value <= gate.max)
        reason = "" if passed else f"{value:.4g} is not {gate.threshold_text}"
        verdicts.append(GateVerdict(gate, value, passed, reason))
    return verdicts


def _source_component(metric: str) -> str:
    for task in ("binary", "multiclass", "regression"):
        if metric in gate_metrics(task):
            return gate_metrics(task)[metric]
    return "performance"


def _measure(gate: GateSpec, result: ComponentResult) -> float | None:
    if result.name == "performance":
        return result.summary.get("metrics", {}).get(gate.metric)
    if result.name == "counterfactual":
        return result.summary.get("validity")
    per_feature: dict[str, Any] = result.summary.get("features", {})
    names = [gate.sensitive_feature] if gate.sensitive_feature else list(per_feature)
    values = [
        per_feature[n]["aggregates"].get(gate.metric)
        for n in names
        if n in per_feature and per_feature[n]["aggregates"].get(gate.metric) is not None
    ]
    if not values:
        return None
    # Without a named feature, judge the worst feature (and intersection) for this bound.
    return float(max(values)) if gate.max is not None else float(min(values))
