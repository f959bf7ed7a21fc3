"""Group fairness: fairlearn ``MetricFrame`` per sensitive feature and their intersection.

Point figures come from fairlearn; seeded bootstrap intervals come from a vectorised
recount of the same metrics on resampled test rows. Groups smaller than
``fairness.min_group_size`` are flagged as too small to judge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from fairlearn import metrics as flm
from sklearn.metrics import accuracy_score, precision_score, recall_score

from rai.results import ComponentResult, to_jsonable
from rai.validate import RaiInputs

Metric = Callable[[Any, Any], float]


def group_metric_functions(task: str, labels: list[Any]) -> dict[str, Metric]:
    """The fairlearn/scikit-learn metric callables used per group for ``task``."""
    if task == "binary":
        return {
            "selection_rate": flm.selection_rate,
            "accuracy": accuracy_score,
            "tpr": flm.true_positive_rate,
            "fpr": flm.false_positive_rate,
            "fnr": flm.false_negative_rate,
            "precision": lambda t, p: precision_score(t, p, zero_division=0),
        }
    if task == "multiclass":
        return {
            "accuracy": accuracy_score,
            "macro_recall": lambda t, p: recall_score(
                t, p, labels=labels, average="macro", zero_division=0
            ),
            "macro_precision": lambda t, p: precision_score(
                t, p, labels=labels, average="macro", zero_division=0
            ),
        }
    return {
        "mae": _mae,
        "rmse": lambda t, p: float(np.sqrt(np.mean((np.asarray(t) - np.asarray(p)) ** 2))),
        "mean_prediction": flm.mean_prediction,
    }


def _mae(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))


def run_fairness(inputs: RaiInputs) -> ComponentResult:
    """Group metrics, differences, ratios and bootstrap intervals per sensitive feature."""
    config, model = inputs.config, inputs.model
    settings = config.fairness
    y_true, y_pred = inputs.y_test.to_numpy(), model.predict(inputs.x_test)
    if config.task == "binary":
        y_true = (y_true == model.positive_label).astype(int)
        y_pred = (y_pred == model.positive_label).astype(int)
    functions = group_metric_functions(config.task, list(model.classes_))
    sensitive = inputs.x_test[list(config.sensitive_features)].astype(str)
    views: dict[str, pd.Series] = {name: sensitive[name] for name in config.sensitive_features}
    if settings.intersections and len(config.sensitive_features) > 1:
        joined = sensitive.apply(lambda row: ", ".join(f"{k}={v}" for k, v in row.items()), axis=1)
        views[" & ".join(config.sensitive_features)] = joined
    rng = np.random.default_rng(config.seed)
    boot_index = rng.integers(0, len(y_true), size=(settings.bootstrap, len(y_true)))
    features: dict[str, Any] = {}
    rows = []
    for view_name, groups in views.items():
        frame = flm.MetricFrame(
            metrics=functions, y_true=y_true, y_pred=y_pred, sensitive_features=groups
        )
        by_group = frame.by_group
        counts = groups.value_counts()
        aggregates = {
            f"{m}_difference": frame.difference(method="between_groups")[m] for m in functions
        }
        aggregates.update(
            {f"{m}_ratio": frame.ratio(method="between_groups")[m] for m in functions}
        )
        if config.task == "binary":
            aggregates.update(_binary_aggregates(y_true, y_pred, groups))
        boot_groups, boot_aggregates = _bootstrap(config.task, y_true, y_pred, groups, boot_index)
        small = sorted(str(g) for g, n in counts.items() if n < settings.min_group_size)
        features[view_name] = {
            "groups": {str(g): int(counts[g]) for g in by_group.index},
            "small_groups": small,
            "aggregates": aggregates,
            "aggregate_intervals": {k: v for k, v in boot_aggregates.items() if k in aggregates},
        }
        for group in by_group.index:
            for metric in functions:
                low, high = boot_groups.get((str(group), metric), (np.nan, np.nan))
                rows.append(
                    {
                        "sensitive_feature": view_name,
                        "group": str(group),
                        "metric": metric,
                        "value": float(by_group.loc[group, metric]),
                        "ci_low": low,
                        "ci_high": high,
                        "count": int(counts[group]),
                        "too_small": str(group) in small,
                    }
                )
    summary = {
        "features": to_jsonable(features),
        "min_group_size": settings.min_group_size,
        "bootstrap": settings.bootstrap,
        "interval": "bootstrap percentile 2.5-97.5 over resampled test rows",
    }
    return ComponentResult(
        "fairness", summary=summary, tables={"group_metrics": pd.DataFrame(rows)}
    )


def _binary_aggregates(
    y_true: np.ndarray, y_pred: np.ndarray, groups: pd.Series
) -> dict[str, float]:
    return {
        "demographic_parity_difference": flm.demographic_parity_difference(
            y_true, y_pred, sensitive_features=groups
        ),
        "demographic_parity_ratio": flm.demographic_parity_ratio(
            y_true, y_pred, sensitive_features=groups
        ),
        "equalized_odds_difference": flm.equalized_odds_difference(
            y_true, y_pred, sensitive_features=groups
        ),
        "equalized_odds_ratio": flm.equalized_odds_ratio(y_true, y_pred, sensitive_features=groups),
    }


def _bootstrap(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, groups: pd.Series, index: np.ndarray
) -> tuple[dict[tuple[str, str], tuple[float, float]], dict[str, list[float]]]:
    codes, names = pd.factorize(groups, sort=True)
    per_boot = [_group_stats(task, y_true[i], y_pred[i], codes[i], len(names)) for i in index]
    group_ci: dict[tuple[str, str], tuple[float, float]] = {}
    per_boot_aggregates: dict[str, np.ndarray] = {}
    for metric in per_boot[0] if per_boot else ():
        stacked = np.vstack([b[metric] for b in per_boot])
        for j, name in enumerate(names):
            low, high = np.nanpercentile(stacked[:, j], [2.5, 97.5])
            group_ci[(str(name), metric)] = (float(low), float(high))
        with np.errstate(invalid="ignore", divide="ignore"):
            highest, lowest = np.nanmax(stacked, axis=1), np.nanmin(stacked, axis=1)
            per_boot_aggregates[f"{metric}_difference"] = highest - lowest
            per_boot_aggregates[f"{metric}_ratio"] = lowest / highest
    if task == "binary" and per_boot:
        agg = per_boot_aggregates
        agg["demographic_parity_difference"] = agg["selection_rate_difference"]
        agg["demographic_parity_ratio"] = agg["selection_rate_ratio"]
        agg["equalized_odds_difference"] = np.fmax(agg["tpr_difference"], agg["fpr_difference"])
        agg["equalized_odds_ratio"] = np.fmin(agg["tpr_ratio"], agg["fpr_ratio"])
    aggregate_ci = {
        name: [float(v) for v in np.nanpercentile(values, [2.5, 97.5])]
        for name, values in per_boot_aggregates.items()
    }
    return group_ci, aggregate_ci


def _group_stats(
    task: str, t: np.ndarray, p: np.ndarray, g: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    def count(weights: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=weights.astype(float), minlength=n_groups)

    with np.errstate(invalid="ignore", divide="ignore"):
        n = count(np.ones_like(t, dtype=float))
        if task == "binary":
            tp, fp = count(t & p), count((1 - t) & p)
            fn, tn = count(t & (1 - p)), count((1 - t) & (1 - p))
            return {
                "selection_rate": (tp + fp) / n,
                "accuracy": (tp + tn) / n,
                "tpr": tp / (tp + fn),
                "fpr": fp / (fp + tn),
                "fnr": fn / (tp + fn),
                "precision": np.where(tp + fp > 0, tp / (tp + fp), 0.0),
            }
        if task == "multiclass":
            return {"accuracy": count(t == p) / n}
        error = t.astype(float) - p.astype(float)
        return {
            "mae": count(np.abs(error)) / n,
            "rmse": np.sqrt(count(error**2) / n),
            "mean_prediction": count(p.astype(float)) / n,
        }
