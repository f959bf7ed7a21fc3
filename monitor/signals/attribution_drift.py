"""Feature attribution drift: has the ranking of what the model relies on changed?

The importance of each feature is measured on the real model by permutation (how much the
model's score drops when a column is shuffled), on the baseline and on a labelled window. The
two rankings are compared with NDCG: the baseline importances are the relevances, the window
importances give the order. 1.0 means the same ranking of what matters; the default alert is
below 0.9 (as in Azure ML's feature attribution drift).

>>> round(ndcg({"age": 0.5, "income": 0.3, "city": 0.1}, {"age": 0.1, "income": 0.4, "city": 0.2}), 3)
0.829
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.inspection import permutation_importance

from monitor.errors import DataError
from monitor.signals.results import SignalResult

__all__ = [
    "DEFAULT_THRESHOLD",
    "attribution_signal_results",
    "importance_on_window",
    "ndcg",
]

DEFAULT_THRESHOLD = 0.9


def ndcg(
    baseline_importance: dict[str, float],
    window_importance: dict[str, float],
    k: int | None = None,
) -> float:
    """Normalised discounted cumulative gain of the window ranking against the baseline's.

    Features missing on one side count as importance 0; negative baseline importances (a
    feature whose shuffling helped) count as 0 relevance. Ties in the window ranking share
    their positions' discounts, as in :func:`sklearn.metrics.ndcg_score`.

    Parameters
    ----------
    baseline_importance, window_importance
        Importance per feature name.
    k
        Only the top ``k`` positions count (all when ``None``).

    Raises
    ------
    DataError
        When no baseline feature has a positive importance (the ranking means nothing).
    """
    names = sorted(set(baseline_importance) | set(window_importance))
    gain = np.array([max(float(baseline_importance.get(f, 0.0)), 0.0) for f in names])
    score = np.array([float(window_importance.get(f, 0.0)) for f in names])
    if not np.isfinite(gain).all() or not np.isfinite(score).all():
        raise DataError("importances must be finite numbers")
    cutoff = len(names) if k is None else min(k, len(names))
    discount = np.zeros(len(names))
    discount[:cutoff] = 1 / np.log2(np.arange(cutoff) + 2)
    ideal = float(np.sort(gain)[::-1] @ discount)
    if ideal <= 0:
        raise DataError(
            "no feature has a positive baseline importance; the baseline model relies on "
            "nothing measurable, so a ranking cannot be compared"
        )
    levels, group = np.unique(-score, return_inverse=True)  # tie groups, best first
    position = np.argsort(group, kind="stable")
    group_discount = np.bincount(group[position], weights=discount, minlength=levels.size)
    group_gain = np.bincount(group, weights=gain, minlength=levels.size)
    group_size = np.bincount(group, minlength=levels.size)
    return float(np.sum(group_discount * group_gain / group_size) / ideal)


def importance_on_window(
    model: Any,
    X: pd.DataFrame,
    y: ArrayLike,
    task: str,
    seed: int = 0,
    *,
    n_repeats: int = 5,
    scoring: str | None = None,
) -> dict[str, float]:
    """Permutation importance of every column of ``X`` for the real ``model``.

    Parameters
    ----------
    model
        A fitted estimator with ``predict`` (and ``score``, or pass ``scoring``).
    X, y
        Labelled rows of the window (or of the baseline).
    task
        ``binary``, ``multiclass`` or ``regression``; sets the default scoring
        (``accuracy`` or ``r2``).
    seed, n_repeats
        Shuffles per column, seeded.
    """
    if task not in ("binary", "multiclass", "regression"):
        raise DataError(f"task must be 'binary', 'multiclass' or 'regression', got {task!r}")
    y_arr = np.asarray(y)
    if len(X) != y_arr.shape[0]:
        raise DataError(f"X has {len(X)} rows but y has {y_arr.shape[0]}; align them by id")
    if len(X) < 2:
        raise DataError(f"permutation importance needs labelled rows; got {len(X)}")
    scoring = scoring or ("r2" if task == "regression" else "accuracy")
    result = permutation_importance(
        model, X, y_arr, scoring=scoring, n_repeats=n_repeats, random_state=seed
    )
    return {str(c): float(v) for c, v in zip(X.columns, result.importances_mean, strict=True)}


def attribution_signal_results(
    baseline_importance: dict[str, float] | None,
    window_importance: dict[str, float] | None,
    *,
    k: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[SignalResult]:
    """One ``attribution_drift`` result: ``alert`` when the NDCG is below ``threshold``."""

    def result(status: str, value: float | None, message: str) -> SignalResult:
        return SignalResult(
            "attribution_drift", None, "ndcg" if k is None else f"ndcg@{k}", value, threshold,
            status, message=message,  # type: ignore[arg-type]
            details={"baseline": baseline_importance, "window": window_importance},
        )  # fmt: skip

    if baseline_importance is None:
        return [result("no_data", None, "no baseline importance: the baseline has no labels or "
                                        "no model_uri")]  # fmt: skip
    if window_importance is None:
        return [result("no_data", None, "no labels have arrived for this window")]
    try:
        value = ndcg(baseline_importance, window_importance, k)
    except DataError as err:
        return [result("error", None, str(err))]
    status = "alert" if value < threshold else "ok"
    top = sorted(window_importance, key=lambda f: -window_importance[f])[:3]
    msg = f"NDCG {value:.3f} {'<' if status == 'alert' else '>='} {threshold}; top now {top}"
    return [result(status, value if math.isfinite(value) else None, msg)]
