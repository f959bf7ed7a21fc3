"""Words and number formats for what the store calls ``wasserstein`` or ``null_rate``.

>>> metric_label("wasserstein")
'Wasserstein distance (in reference std)'
>>> format_value("null_rate", 0.0412)
'4.1%'
>>> format_value("ks", 0.000012)
'p = 1.2e-05'
>>> format_value("anything", None)
'—'
"""

from __future__ import annotations

import math

from monitor.metrics import METRICS
from monitor.signals import SIGNALS

METRIC_LABELS: dict[str, str] = {
    "wasserstein": "Wasserstein distance (in reference std)",
    "jensenshannon": "Jensen–Shannon distance",
    "psi": "population stability index",
    "hellinger": "Hellinger distance",
    "l_infinity": "largest share difference",
    "ks": "Kolmogorov–Smirnov test",
    "chisquare": "chi-squared test",
    "ztest": "two-proportion z-test",
    "anderson": "Anderson–Darling test",
    "drift_share": "share of drifted features",
    "null_rate": "null rate",
    "type_error_rate": "type-error rate",
    "out_of_range_rate": "out-of-range rate",
    "unseen_category_rate": "new-category rate",
    "domain_classifier_auc": "domain-classifier ROC AUC",
    "pca_reconstruction_error": "PCA reconstruction error",
    "ndcg": "importance-ranking NDCG",
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1 score",
    "roc_auc": "ROC AUC",
    "log_loss": "log loss",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
    "r2": "R²",
    "rows": "rows in the window",
    "accuracy_difference": "accuracy difference (challenger - champion)",
}

#: Signal titles come from the registry, so a new signal is named without a change here.
SIGNAL_LABELS: dict[str, str] = {name: entry.title for name, entry in SIGNALS.items()}

#: What an on-call engineer should look at first when a signal alerts.
NEXT_STEPS: dict[str, str] = {
    "data_drift": "Open the Drift tab on the top feature: compare its window distribution with the "
    "baseline. Check the upstream pipeline for a unit, encoding or source change; if the shift is "
    "real and lasting, retrain on recent data and rebuild the baseline.",
    "dataset_drift": "Many features moved at once: look for an upstream change common to them "
    "(a new data source, a schema or join change, a new customer segment) before retraining.",
    "prediction_drift": "The model's outputs moved: check whether the drifted input features "
    "explain it, and whether the decision rate downstream changed; confirm with labels when "
    "they arrive.",
    "data_quality": "Look at the Data quality tab for the rate that moved: nulls and type errors "
    "usually mean a broken producer; new categories or out-of-range values a changed source.",
    "performance": "Labelled performance fell below the baseline's interval: check the drifted "
    "features and the error analysis of the RAI review; retrain or roll back the version.",
    "estimated_performance": "The estimate (CBPE) fell: it assumes calibrated scores and no "
    "concept drift; confirm with labels before acting, and check prediction drift.",
    "concept_drift": "The error rate changed while inputs may not have: the relation between "
    "features and target moved. Check the Change detection tab; retrain on data after the change.",
    "multivariate_drift": "The joint distribution moved even if single features did not: look for "
    "changed correlations (a new segment, a join problem).",
    "attribution_drift": "The model now relies on different features: compare the importance "
    "ranking with the baseline's and review the features that moved up.",
    "challenger": "The challenger version is less accurate than the champion on the same traffic: "
    "open the Model lifecycle page for the paired evidence; stop its rollout (split mode serves it to "
    "users) and review how it was retrained.",
}

_RATES = {
    "null_rate",
    "type_error_rate",
    "out_of_range_rate",
    "unseen_category_rate",
    "drift_share",
}


def metric_label(metric: str) -> str:
    """A human-readable name of a stored metric (the raw name when unknown)."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def signal_label(signal: str) -> str:
    """A human-readable name of a signal."""
    return SIGNAL_LABELS.get(signal, signal.replace("_", " ").capitalize())


def is_test(metric: str) -> bool:
    """Whether the metric's value is a p-value (lower is worse)."""
    info = METRICS.get(metric)
    return bool(info is not None and info.is_test)


def format_value(metric: str, value: float | None) -> str:
    """A value in the format its metric reads best in (``—`` when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if metric in _RATES:
        return f"{value:.1%}"
    if is_test(metric):
        return f"p = {value:.2g}"
    return f"{value:.3g}"
