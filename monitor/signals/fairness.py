"""Fairness in production: the RAI review's group-fairness figures on each labelled window.

For every sensitive feature of the model version, the window's labelled rows are
grouped and the group metrics of the Responsible-AI review are recounted with the
review's own code (:mod:`rai.components.fairness_intervals`, which matches fairlearn's
``MetricFrame``): selection rate, TPR, FPR... and the between-group difference
(``max - min``, fairlearn's ``between_groups``) of each judged figure, e.g.
``demographic_parity_difference`` and ``equalized_odds_difference``. Each comes with
the review's 95 % bootstrap interval (simultaneous over pairs of groups).

When it pages. ``min_effect`` is the largest disparity the team accepts (default 0.1,
the review's default gate). The test is one-sided, H0: *the true disparity is at most
``min_effect``*: for every pair of groups ``(a, b)`` and every rate the figure pools,
``z = (|d_ab| - min_effect) / se_ab`` with the rates' binomial standard errors
(:func:`rai.components.fairness_intervals.proportion_se`); the figure's p-value is the
smallest one-sided p-value times the number of comparisons (Bonferroni), and Holm
corrects across figures and features at the signal's share of the budget. So a window
pages only when the disparity is *significantly above* what is accepted, and on
windows whose disparity is within it the page rate stays within the share; a point
estimate above ``min_effect`` that is not significant is a ``warning``. Groups with
fewer than ``min_group_rows`` labelled rows are left out and named.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from scipy.stats import norm

from monitor.baseline.model_outputs import label_text
from monitor.errors import DataError
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.signals.base import SignalSettings, error, no_data
from monitor.signals.performance import holm
from monitor.signals.results import SignalResult, Status

if TYPE_CHECKING:
    from monitor.signals.base import SignalContext

SIGNAL = "fairness"
# Figures that pool proportions (so a binomial standard error holds), per task.
PROPORTIONS = {
    "binary": ("selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision"),
    "multiclass": ("accuracy",),
}
DEFAULT_METRICS = {
    "binary": ("demographic_parity_difference", "equalized_odds_difference"),
    "multiclass": ("accuracy_difference",),
}


class FairnessSettings(SignalSettings):
    """``signals.fairness`` (needs ``sensitive_features`` and labels).

    Parameters
    ----------
    metrics
        Between-group differences judged (default: demographic parity and equalized
        odds for binary models, accuracy for multiclass); any ``<rate>_difference``
        of the review's rates (selection_rate, accuracy, tpr, fpr, fnr, precision).
    min_effect
        The largest accepted disparity; larger ones page when significant (default 0.1).
    min_labels
        Fewer labelled rows than this give ``no_data`` (default 200).
    min_group_rows
        Groups with fewer labelled rows are not compared (default 30).
    bootstrap
        Resamples of the review's stratified bootstrap for the intervals (default 200).
    """

    metrics: tuple[str, ...] | None = None
    min_effect: float = Field(default=0.1, gt=0, lt=1)
    min_labels: int = Field(default=200, ge=20)
    min_group_rows: int = Field(default=30, ge=5)
    bootstrap: int = Field(default=200, ge=0, le=5000)

    @field_validator("metrics")
    @classmethod
    def _known(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        rates = PROPORTIONS["binary"]
        known = [
            "demographic_parity_difference",
            "equalized_odds_difference",
            *(f"{r}_difference" for r in rates),
        ]
        bad = [m for m in value or () if m not in known]
        if bad:
            raise ValueError(f"unknown fairness metric(s) {bad}; choose from {known}")
        return value


def applies(mv: Any) -> bool:
    return bool(mv.sensitive_features) and mv.prediction is not None and mv.task in PROPORTIONS


def _encode(mv: Any, labelled: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Labels and predictions as the review codes them: 0/1 (binary) or class indices."""
    truth = labelled[LABEL_COLUMN].map(label_text)
    pred = labelled[mv.prediction].map(label_text)
    if mv.classes:
        bad = sorted({str(v) for v in pd.concat([truth, pred]).dropna()} - set(mv.classes))
        if bad:
            raise DataError(
                f"labels or predictions {bad[:5]} are not classes of the model version {list(mv.classes)}; "
                "log the predicted class as declared under 'classes'"
            )
    if mv.task == "binary":
        positive = mv.classes[-1] if mv.classes else "1"
        return (truth == positive).to_numpy(int), (pred == positive).to_numpy(int), 2
    classes = list(mv.classes) or sorted(set(truth.dropna()) | set(pred.dropna()))
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = len(classes)  # a label the model does not know never counts as correct
    return (
        truth.map(lambda v: lookup.get(v, unknown)).to_numpy(int),
        pred.map(lambda v: lookup.get(v, unknown + 1)).to_numpy(int),
        len(classes),
    )


def _exceedance(
    point: dict[str, np.ndarray],
    counts: dict[str, np.ndarray],
    rates: tuple[str, ...],
    limit: float,
) -> tuple[float, float, list[dict[str, Any]]]:
    """The figure (max over rates of max - min), its one-sided p-value for H0 ``<= limit``, pairs."""
    from rai.components import fairness_intervals as fi

    value, p_min, comparisons, pairs = 0.0, 1.0, 0, []
    for rate in rates:
        v, n = point[rate], counts[rate]
        ok = np.flatnonzero(np.isfinite(v) & (n > 0))
        if len(ok) < 2:
            continue
        value = max(value, float(fi.between_group(v[ok])))
        se = fi.proportion_se(v, n, "difference")
        for i, a in enumerate(ok):
            for b in ok[i + 1 :]:
                d, s = float(v[b] - v[a]), float(np.hypot(se[a], se[b]))
                p = float(norm.sf((abs(d) - limit) / s)) if s > 0 else float(abs(d) <= limit)
                comparisons += 1
                p_min = min(p_min, p)
                pairs.append(
                    {"rate": rate, "a": int(a), "b": int(b), "difference": d, "p_value": p}
                )
    return value, min(1.0, p_min * max(comparisons, 1)), pairs


def evaluate(context: SignalContext, settings: FairnessSettings) -> list[SignalResult]:
    """Each sensitive feature's judged disparities on the window's labelled rows."""
    from rai.components import fairness_intervals as fi  # the review's own recount

    mv = context.model_version
    names = settings.metrics or DEFAULT_METRICS[mv.task]
    features = list(mv.sensitive_features)
    cells = [(f, m) for f in features for m in names]
    labelled = context.labelled
    if labelled is None:
        return [
            no_data(SIGNAL, m, "no label source was given for this run", feature=f)
            for f, m in cells
        ]
    missing = [f for f in features if f not in labelled]
    if missing:
        return [
            error(
                SIGNAL, m, f"the labelled rows lack the sensitive feature(s) {missing}", feature=f
            )
            for f, m in cells
        ]
    labelled = labelled[labelled[LABEL_COLUMN].notna() & labelled[mv.prediction].notna()]
    n = len(labelled)
    if n < settings.min_labels:
        why = f"{n} labelled rows; fairness needs at least {settings.min_labels} (signals.fairness.min_labels)"
        return [no_data(SIGNAL, m, why, n=n, feature=f) for f, m in cells]
    unknown = [
        m
        for m in names
        if any(r not in PROPORTIONS[mv.task] for r in (fi.ratio_kind(m) or ((m,), ""))[0])
    ]
    if unknown:
        return [error(SIGNAL, m, f"{m} is not a {mv.task} fairness figure; choose from "
                      f"{[f'{r}_difference' for r in PROPORTIONS[mv.task]]}", feature=f) for f, m in cells]  # fmt: skip
    try:
        y_true, y_pred, n_classes = _encode(mv, labelled)
    except DataError as err:
        return [error(SIGNAL, m, str(err), n=n, feature=f) for f, m in cells]
    judged: list[tuple[str, str, float, float, int, dict[str, Any]]] = []
    out: list[SignalResult] = []
    for feature in features:
        groups = labelled[feature].astype(str).where(labelled[feature].notna(), None)
        sizes = groups.value_counts()
        kept = sorted(str(g) for g, c in sizes.items() if c >= settings.min_group_rows)
        small = sorted(str(g) for g, c in sizes.items() if c < settings.min_group_rows)
        if len(kept) < 2:
            why = (f"{feature}: fewer than two groups with {settings.min_group_rows}+ labelled rows "
                   f"(sizes {sizes.to_dict()}); signals.fairness.min_group_rows")  # fmt: skip
            out += [no_data(SIGNAL, m, why, n=n, feature=feature) for m in names]
            continue
        rows = groups.isin(kept).to_numpy()
        codes = np.searchsorted(np.array(kept), groups[rows].to_numpy(str))
        t, p = y_true[rows], y_pred[rows]
        point, counts = fi.group_statistics_with_counts(mv.task, t, p, codes, len(kept), n_classes)
        rng = np.random.default_rng([context.baseline.plan.seed, *feature.encode()])
        boots, boot_counts = (
            fi.bootstrap_statistics(mv.task, t, p, codes, len(kept), n_classes, resamples=settings.bootstrap, rng=rng)
            if settings.bootstrap else ({}, {})
        )  # fmt: skip
        for metric in names:
            rates, _ = fi.ratio_kind(metric) or ((metric,), "difference")
            value, p_value, pairs = _exceedance(point, counts, rates, settings.min_effect)
            with warnings.catch_warnings():  # a rate undefined in some resamples (no positives)
                warnings.simplefilter("ignore", RuntimeWarning)
                interval = (
                    list(fi.aggregate_interval(point, boots, rates, "difference", counts, boot_counts))
                    if boots else None
                )  # fmt: skip
            details = {
                "groups": {g: int(sizes[g]) for g in kept}, "small_groups": small, "interval": interval,
                "group_rates": {r: dict(zip(kept, map(float, point[r]), strict=True)) for r in rates},
                "pairs": [{**q, "a": kept[q["a"]], "b": kept[q["b"]]} for q in pairs],
                "test": "one-sided z-test of |rate_b - rate_a| > min_effect per pair, Bonferroni over pairs",
            }  # fmt: skip
            judged.append((feature, metric, value, p_value, int(rows.sum()), details))
    levels, rejected = holm([j[3] for j in judged], context.alpha(SIGNAL))
    for (feature, metric, value, p_value, size, details), level, alarm in zip(
        judged, levels, rejected, strict=True
    ):
        status: Status = "alert" if alarm else ("warning" if value >= settings.min_effect else "ok")
        out.append(SignalResult(
            signal=SIGNAL, feature=feature, metric=metric, value=value, threshold=settings.min_effect,
            status=status, p_value=p_value, alpha=level, effect_size=value, min_effect=settings.min_effect,
            correction="holm", current_size=size, details=details,
            message=None if status == "ok" else (
                f"{metric} of {feature} is {value:.3f}, significantly above {settings.min_effect}" if alarm
                else f"{metric} of {feature} is {value:.3f} (above {settings.min_effect}, not significant)"),
        ))  # fmt: skip
    return out
