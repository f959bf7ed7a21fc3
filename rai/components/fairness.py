"""Group fairness: fairlearn ``MetricFrame`` per sensitive feature and their intersection.

Point figures come from fairlearn; seeded bootstrap intervals come from a vectorised
recount of the same metrics on resampled test rows. Groups smaller than
``fairness.min_group_size`` are flagged as too small to judge.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from fairlearn import metrics as flm
from sklearn.metrics import accuracy_score, precision_score, recall_score

from rai.components import fairness_intervals as fi
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
    """Group metrics, differences, ratios, their intervals and a "no disparity" test.

    Point figures come from fairlearn ``MetricFrame``; intervals and p-values from
    :mod:`rai.components.fairness_intervals` (stratified bootstrap, simultaneous
    max-|t| band, permutation test).
    """
    config, model = inputs.config, inputs.model
    settings = config.fairness
    y_true, y_pred = inputs.y_test.to_numpy(), model.predict(inputs.x_test)
    classes = list(model.classes_)
    if config.task == "binary":
        y_true = (y_true == model.positive_label).astype(int)
        y_pred = (y_pred == model.positive_label).astype(int)
        t_codes, p_codes = y_true, y_pred
    elif config.task == "multiclass":
        lookup = {str(c): i for i, c in enumerate(classes)}
        # a label the model does not know gets its own code: it never counts as correct
        t_codes = np.array([lookup.get(str(v), len(classes)) for v in y_true])
        p_codes = np.array([lookup.get(str(v), len(classes)) for v in y_pred])
    else:
        t_codes, p_codes = y_true.astype(float), y_pred.astype(float)
    functions = group_metric_functions(config.task, classes)
    sensitive = inputs.x_test[list(config.sensitive_features)].astype(str)
    views: dict[str, pd.Series] = {name: sensitive[name] for name in config.sensitive_features}
    if settings.intersections and len(config.sensitive_features) > 1:
        joined = sensitive.apply(lambda row: ", ".join(f"{k}={v}" for k, v in row.items()), axis=1)
        views[" & ".join(config.sensitive_features)] = joined
    features: dict[str, Any] = {}
    rows, pair_rows = [], []
    for view_name, groups in views.items():
        # one generator per view, seeded from the config seed and the view's name (stable
        # across processes: no use of Python's string hash)
        rng = np.random.default_rng([config.seed, *view_name.encode()])
        frame = flm.MetricFrame(
            metrics=functions, y_true=y_true, y_pred=y_pred, sensitive_features=groups
        )
        by_group = frame.by_group
        codes, names = pd.factorize(groups, sort=True)
        names = [str(n) for n in names]
        counts = groups.value_counts()
        aggregates = {
            f"{m}_difference": frame.difference(method="between_groups")[m] for m in functions
        }
        aggregates.update(
            {f"{m}_ratio": frame.ratio(method="between_groups")[m] for m in functions}
        )
        if config.task == "binary":
            aggregates.update(_binary_aggregates(y_true, y_pred, groups))
        n_classes = len(classes)
        point, point_counts = fi.group_statistics_with_counts(
            config.task, t_codes, p_codes, codes, len(names), n_classes
        )
        boots, boot_counts = fi.bootstrap_statistics(
            config.task,
            t_codes,
            p_codes,
            codes,
            len(names),
            n_classes,
            resamples=settings.bootstrap,
            rng=rng,
        )
        intervals = {}
        for name in aggregates:
            parsed = fi.ratio_kind(name)
            if parsed is None or len(names) < 2:
                continue
            intervals[name] = list(
                fi.aggregate_interval(point, boots, *parsed, point_counts, boot_counts)
            )
        p_values = fi.permutation_p_values(
            config.task,
            t_codes,
            p_codes,
            codes,
            len(names),
            n_classes,
            permutations=settings.permutations,
            rng=rng,
        )
        small = sorted(str(g) for g, n in counts.items() if n < settings.min_group_size)
        signed: dict[str, Any] = {}
        for metric in functions:
            contrasts, low, high, labels = fi.contrast_band(
                (metric,), "difference", point, boots, point_counts, boot_counts
            )
            pairs = [(a, b) for _, a, b in labels]
            for k, (a, b) in enumerate(pairs):
                pair_rows.append(
                    {
                        "sensitive_feature": view_name,
                        "metric": metric,
                        "group_a": names[a],
                        "group_b": names[b],
                        "difference": float(contrasts[k]),
                        "ci_low": float(low[k]),
                        "ci_high": float(high[k]),
                    }
                )
            if len(pairs) == 1:
                signed[metric] = {
                    "groups": [names[0], names[1]],
                    "difference": float(contrasts[0]),
                    "ci": [float(low[0]), float(high[0])],
                }
        features[view_name] = {
            "groups": {str(g): int(counts[g]) for g in by_group.index},
            "small_groups": small,
            "aggregates": aggregates,
            "aggregate_intervals": intervals,
            "p_values": {k: v for k, v in p_values.items() if k in aggregates},
            "signed_differences": signed,
        }
        for metric in functions:
            group_values = by_group[metric].astype(float)
            best = float(np.nanmax(group_values.to_numpy())) if len(group_values) else np.nan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a rate undefined in a group
                group_low = np.nanpercentile(boots[metric], 2.5, axis=0)
                group_high = np.nanpercentile(boots[metric], 97.5, axis=0)
            for group in by_group.index:
                j = names.index(str(group))
                value = float(group_values.loc[group])
                rows.append(
                    {
                        "sensitive_feature": view_name,
                        "group": str(group),
                        "metric": metric,
                        "value": value,
                        "ci_low": float(group_low[j]),
                        "ci_high": float(group_high[j]),
                        "count": int(counts[group]),
                        "difference_from_max": value - best,
                        "ratio_to_max": value / best if best > 0 else np.nan,
                        "too_small": str(group) in small,
                    }
                )
    summary = {
        "features": to_jsonable(features),
        "min_group_size": settings.min_group_size,
        "bootstrap": settings.bootstrap,
        "permutations": settings.permutations,
        "seed": config.seed,
        "interval": (
            "95% intervals. Groups: percentile of a stratified bootstrap (rows resampled within "
            "each group). Differences between two groups: signed value(b) - value(a) with a "
            "max-|t| bootstrap band, simultaneous over all pairs of groups. A between-groups "
            "difference (max - min) or ratio (min / max) gets the interval implied by the "
            "simultaneous pairwise intervals, so it can contain 0 (difference) or 1 (ratio)."
        ),
        "p_value": (
            "permutation test of no disparity: H0 the sensitive feature is independent of "
            "label and prediction; statistic the between-groups difference"
        ),
    }
    tables = {"group_metrics": pd.DataFrame(rows), "pairwise_differences": pd.DataFrame(pair_rows)}
    return ComponentResult("fairness", summary=summary, tables=tables)


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
