""" "What is wrong" in one run: the signals in alert, since when, the features that
moved most, and what to do next — derived from stored results, never recomputed.

How far a result is past its threshold (its *severity*) is, for distances,
``value / threshold`` and, for p-values and lower-is-worse metrics (performance,
NDCG), ``threshold / value``; a stored ``details["effect_size"]`` is shown as the
effect size when the signal provides one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboards.labels import NEXT_STEPS, format_value, is_test, metric_label, signal_label

#: Signals whose higher value is better (an alert means the value fell).
_LOWER_IS_WORSE_METRICS = {"ndcg", "accuracy", "precision", "recall", "f1", "roc_auc", "r2"}
SEVERITY_RANK = {"alert": 0, "error": 1, "warning": 2, "ok": 3, "no_data": 4}


@dataclass(frozen=True)
class FeatureFinding:
    """One result of a signal in alert or warning, ready to show."""

    feature: str
    metric: str
    value: str
    metric_name: str
    threshold: str
    severity: float
    effect_size: float | None
    status: str


@dataclass(frozen=True)
class Finding:
    """A signal in alert in the chosen run."""

    signal: str
    title: str
    since: pd.Timestamp
    windows: int
    top: tuple[FeatureFinding, ...]
    next_step: str


def lower_is_worse(metric: str, details: Any) -> bool:
    """Whether a smaller value of this result is the bad direction."""
    if isinstance(details, dict) and "higher_is_better" in details:
        return bool(details["higher_is_better"])
    return is_test(metric) or metric in _LOWER_IS_WORSE_METRICS


def severity(metric: str, value: Any, threshold: Any, details: Any = None) -> float:
    """How far ``value`` is past ``threshold`` (1 = at the threshold; NaN when unknown)."""
    if value is None or threshold is None or pd.isna(value) or pd.isna(threshold):
        return math.nan
    value, threshold = float(value), float(threshold)
    if lower_is_worse(metric, details):
        return math.inf if value <= 0 else threshold / value
    return (
        math.inf if threshold <= 0 < value else (value / threshold if threshold > 0 else math.nan)
    )


def sort_by_severity(frame: pd.DataFrame) -> pd.DataFrame:
    """Results ordered alert → error → warning → ok → no data, most severe first within a status."""
    ranks = frame["status"].map(SEVERITY_RANK).fillna(5)
    sev = [
        severity(m, v, t, d)
        for m, v, t, d in zip(
            frame["metric"], frame["value"], frame["threshold"], frame["details"], strict=True
        )
    ]
    ordered = frame.assign(_rank=ranks, severity=sev, _sev=[-s if s == s else 0.0 for s in sev])
    return ordered.sort_values(["_rank", "_sev"], kind="stable").drop(columns=["_rank", "_sev"])


def _streak_start(
    results: pd.DataFrame, signal: str, run_end: pd.Timestamp
) -> tuple[pd.Timestamp, int]:
    """Start of the run of consecutive windows, up to ``run_end``, in which ``signal`` was in
    alert (windows without data neither break nor extend it), and how many windows that is."""
    mine = results[(results["signal"] == signal) & (results["window_end"] <= run_end)]
    worst = mine.groupby(["window_end", "window_start"])["status"].agg(
        lambda s: min(s, key=lambda x: SEVERITY_RANK.get(x, 5))
    )
    start, windows = None, 0
    for (_end, begin), status in sorted(worst.items(), reverse=True):
        if status == "no_data":
            continue
        if status != "alert":
            break
        start, windows = begin, windows + 1
    return (start if start is not None else run_end), windows


def findings(results: pd.DataFrame, run_id: int, *, top: int = 5) -> list[Finding]:
    """The signals in alert in run ``run_id``, most results in alert first."""
    run = results[results["run_id"] == run_id]
    if run.empty:
        return []
    run_end = run["window_end"].iloc[0]
    out = []
    alerting = run[run["status"] == "alert"]
    for signal in alerting["signal"].unique():
        bad = sort_by_severity(
            run[(run["signal"] == signal) & run["status"].isin(["alert", "warning"])]
        )
        items = tuple(
            FeatureFinding(
                feature=str(r.feature) if isinstance(r.feature, str) else "(dataset)",
                metric=metric_label(str(r.metric)),
                metric_name=str(r.metric),
                value=format_value(str(r.metric), r.value),
                threshold=format_value(str(r.metric), r.threshold),
                severity=float(r.severity),
                effect_size=(r.details or {}).get("effect_size")
                if isinstance(r.details, dict)
                else None,
                status=str(r.status),
            )
            for r in bad.head(top).itertuples()
        )
        since, windows = _streak_start(results, str(signal), run_end)
        out.append(
            Finding(
                signal=str(signal),
                title=signal_label(str(signal)),
                since=since,
                windows=windows,
                top=items,
                next_step=NEXT_STEPS.get(
                    str(signal), "Open the signal's tab and compare with the baseline."
                ),
            )
        )
    return sorted(out, key=lambda f: -len(f.top))
