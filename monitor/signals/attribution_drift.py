"""Feature attribution drift: has the ranking of what the model relies on changed?

The importance of each feature is measured on the real model by permutation: how much the
per-row score (correct prediction for classifiers, squared error over the target's variance
for regressions) drops when a column is shuffled, averaged over rows. It is a mean over
rows, so it comes with a standard error. The baseline's importances and their errors are
fitted ONCE at baseline creation (:func:`fit_attribution_part`); a labelled window gets the
same measurement and is judged by:

* **significance**: per feature, a two-sided z-test of the change of its importance with
  the standard errors of both sides, Holm across features at the signal's alpha;
* **size**: the NDCG of the window ranking against the baseline's (the baseline importances
  are the relevances, the window importances give the order); the effect is ``1 - NDCG``,
  and it pages from ``min_effect`` (default 0.1: NDCG below 0.9, as in Azure ML).

The baseline should be measured on data the model was not trained on (a validation set):
in-sample importances are inflated, and a window would then look significantly different.

>>> round(ndcg({"age": 0.5, "income": 0.3, "city": 0.1}, {"age": 0.1, "income": 0.4, "city": 0.2}), 3)
0.829
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pydantic import Field
from scipy.stats import norm

from monitor.baseline.model_outputs import target_for_model
from monitor.errors import DataError
from monitor.signals.base import SignalSettings, error, no_data
from monitor.signals.performance import holm
from monitor.signals.results import SignalResult
from monitor.spec.model_version import ModelVersion

if TYPE_CHECKING:
    from monitor.signals.base import SignalContext

__all__ = [
    "AttributionDriftSettings",
    "evaluate",
    "fit_attribution_part",
    "importance_on_window",
    "importance_with_errors",
    "judge_importances",
    "ndcg",
    "scorable_rows",
]

SIGNAL = "attribution_drift"


class AttributionDriftSettings(SignalSettings):
    """``signals.attribution_drift`` (needs the model, ``model_uri``, and labels).

    Parameters
    ----------
    min_labels
        Fewer labelled window rows than this give ``no_data`` (default 100).
    k
        Only the top ``k`` positions of the ranking count in the NDCG (all when ``None``).
    min_effect
        The smallest ``1 - NDCG`` that pages (default 0.1: NDCG below 0.9).
    n_repeats
        Shuffles per column on the window (default 5; the baseline's are fixed at its creation).
    """

    min_labels: int = Field(default=100, ge=10)
    k: int | None = Field(default=None, ge=1)
    min_effect: float = Field(default=0.1, gt=0, le=1)
    n_repeats: int = Field(default=5, ge=1, le=50)


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


def _row_scores(
    model: Any, X: pd.DataFrame, y: NDArray[Any], task: str, scale: float
) -> NDArray[np.float64]:
    pred = np.asarray(model.predict(X))
    if task == "regression":
        return -((pred.astype(float) - y.astype(float)) ** 2) / scale
    return (pred == y).astype(float)


def importance_with_errors(
    model: Any, X: pd.DataFrame, y: ArrayLike, task: str, seed: int = 0, *, n_repeats: int = 5
) -> dict[str, tuple[float, float]]:
    """Permutation importance of every column with its standard error, ``{column: (mean, se)}``.

    Per row, the drop of its score when the column is shuffled (averaged over the
    ``n_repeats`` shuffles); the importance is the mean drop over rows and the standard
    error the rows' standard deviation over ``sqrt(n)``. Classifiers: accuracy, i.e. the
    same value as :func:`sklearn.inspection.permutation_importance` with the same shuffles;
    regressions: R² (squared errors over the target's variance).

    Raises
    ------
    DataError
        Unknown task, misaligned ``X`` and ``y``, or fewer than 2 rows.
    """
    if task not in ("binary", "multiclass", "regression"):
        raise DataError(f"task must be 'binary', 'multiclass' or 'regression', got {task!r}")
    y_arr = np.asarray(y)
    if len(X) != y_arr.shape[0]:
        raise DataError(f"X has {len(X)} rows but y has {y_arr.shape[0]}; align them by id")
    if len(X) < 2:
        raise DataError(f"permutation importance needs labelled rows; got {len(X)}")
    scale = float(np.var(y_arr.astype(float))) if task == "regression" else 1.0
    if scale <= 0:
        raise DataError("the labels are constant; R² and its importance are undefined")
    X = X.reset_index(drop=True)
    base = _row_scores(model, X, y_arr, task, scale)
    rng = np.random.default_rng(seed)
    out = {}
    for col in X.columns:
        drop = np.zeros(len(X))
        shuffled = X.copy()
        for _ in range(n_repeats):
            shuffled[col] = X[col].to_numpy()[rng.permutation(len(X))]
            drop += base - _row_scores(model, shuffled, y_arr, task, scale)
        drop /= n_repeats
        out[str(col)] = (float(drop.mean()), float(drop.std(ddof=1) / math.sqrt(len(X))))
    return out


def importance_on_window(
    model: Any, X: pd.DataFrame, y: ArrayLike, task: str, seed: int = 0, *, n_repeats: int = 5
) -> dict[str, float]:
    """Permutation importance of every column of ``X`` for the real ``model`` (the means only)."""
    return {
        c: v
        for c, (v, _) in importance_with_errors(
            model, X, y, task, seed, n_repeats=n_repeats
        ).items()
    }


def scorable_rows(mv: ModelVersion, X: pd.DataFrame) -> NDArray[np.bool_]:
    """Rows whose numeric model inputs are all present and finite.

    Permutation importance re-scores rows with the real model, and most models reject
    NaN or ±inf; these rows are left out on the baseline and on the window alike (so
    both measure the same thing), and the number left out is reported.

    >>> from monitor.spec.model_version import parse_model_version
    >>> mv = parse_model_version({"name": "m", "version": "1", "task": "binary", "prediction": None,
    ...     "features": [{"name": "a", "type": "numeric"}, {"name": "c", "type": "categorical"}]})
    >>> X = pd.DataFrame({"a": [1.0, np.inf, None, 2.0], "c": ["x", "y", "z", None]})
    >>> scorable_rows(mv, X).tolist()
    [True, False, False, True]
    """
    ok = np.ones(len(X), dtype=bool)
    for f in mv.features:
        if f.type == "numeric" and f.name in X:
            values = pd.to_numeric(X[f.name], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            ok &= np.isfinite(values)
    return ok


def fit_attribution_part(
    model: Any, X: pd.DataFrame, y: ArrayLike, task: str, *, seed: int = 0, n_repeats: int = 10
) -> dict[str, Any]:
    """The baseline's importances and standard errors (JSON), fitted once at its creation."""
    imp = importance_with_errors(model, X, y, task, seed, n_repeats=n_repeats)
    return {
        "importance": {c: v for c, (v, _) in imp.items()},
        "standard_error": {c: se for c, (_, se) in imp.items()},
        "rows": len(X),
        "n_repeats": n_repeats,
        "seed": seed,
    }


def judge_importances(
    part: dict[str, Any],
    window: dict[str, tuple[float, float]],
    n: int,
    *,
    alpha: float,
    settings: AttributionDriftSettings,
) -> SignalResult:
    """One result: Holm over the per-feature z-tests, and the NDCG as the size of the change."""
    metric = "ndcg" if settings.k is None else f"ndcg@{settings.k}"
    ref, ref_se = part["importance"], part["standard_error"]
    window_imp = {c: v for c, (v, _) in window.items()}
    try:
        value = ndcg(ref, window_imp, settings.k)
    except DataError as err:
        return error(SIGNAL, metric, str(err), n=n)
    names = sorted(set(ref) & set(window))
    p = []
    for c in names:
        se = math.hypot(ref_se[c], window[c][1])
        diff = window[c][0] - ref[c]
        p.append(float(2 * norm.sf(abs(diff) / se)) if se > 0 else (0.0 if diff != 0 else 1.0))
    _, rejected = holm(p, alpha)
    p_family = min(1.0, len(p) * min(p)) if p else 1.0  # Holm-adjusted smallest p-value
    effect = 1 - value
    status: Literal["ok", "warning", "alert"] = (
        "ok" if not any(rejected) else "alert" if effect >= settings.min_effect else "warning"
    )
    changed = [c for c, r in zip(names, rejected, strict=True) if r]
    top = sorted(window_imp, key=lambda f: -window_imp[f])[:3]
    return SignalResult(
        signal=SIGNAL, metric=metric, value=value, threshold=1 - settings.min_effect, status=status,
        p_value=p_family, alpha=alpha, effect_size=effect, min_effect=settings.min_effect, correction="holm",
        reference_size=int(part["rows"]), current_size=n,
        message=(
            f"NDCG {value:.3f} of the window's importance ranking against the baseline's (pages below "
            f"{1 - settings.min_effect:.2f}); importance changed significantly for {changed or 'no feature'} "
            f"(Holm-adjusted p={p_family:.3g}, alpha {alpha:.3g}); top now {top}"
        ),
        details={
            "baseline": ref, "window": window_imp, "window_standard_error": {c: se for c, (_, se) in window.items()},
            "p_values": dict(zip(names, p, strict=True)), "changed": changed,
        },
    )  # fmt: skip


def evaluate(context: SignalContext, settings: AttributionDriftSettings) -> list[SignalResult]:
    """Permutation importance of the real model on the window's labelled rows vs the baseline's."""
    from monitor.baseline.model_input import to_model_input
    from monitor.ingest.log_rows import LABEL_COLUMN

    mv = context.model_version
    metric = "ndcg" if settings.k is None else f"ndcg@{settings.k}"
    part = (context.baseline.performance or {}).get("attribution")
    if part is None or ("error" not in part and "standard_error" not in part):
        return [
            no_data(
                SIGNAL,
                metric,
                "the baseline has no importances with standard errors; rebuild it with `raiwatch baseline create`",
            )
        ]
    if "error" in part:
        return [no_data(SIGNAL, metric, str(part["error"]))]
    if context.model is None:
        return [
            no_data(SIGNAL, metric, f"the model at {mv.model_uri!r} was not loaded for this run")
        ]
    labelled = context.labelled
    rows = (
        labelled[labelled[LABEL_COLUMN].notna()]
        if labelled is not None and LABEL_COLUMN in labelled
        else None
    )
    left_out = 0
    if rows is not None:
        usable = scorable_rows(mv, rows)
        left_out = int((~usable).sum())
        rows = rows[usable]
    n = 0 if rows is None else len(rows)
    if rows is None or n < settings.min_labels:
        why = (
            "no label source was given for this run"
            if labelled is None
            else f"{n} labelled rows"
            + (
                f" with finite inputs ({left_out} left out: a missing or non-finite numeric input)"
                if left_out
                else ""
            )
            + f"; attribution drift needs at least {settings.min_labels}"
        )
        return [no_data(SIGNAL, metric, why, n=n)]
    try:
        window = importance_with_errors(
            context.model, to_model_input(mv, rows), target_for_model(rows[LABEL_COLUMN], context.model),
            mv.task, context.baseline.plan.seed, n_repeats=settings.n_repeats,
        )  # fmt: skip
    except Exception as err:  # the user's model may raise anything: an explicit error result
        return [error(SIGNAL, metric, f"permutation importance on the window failed: {err}", n=n)]
    result = judge_importances(part, window, n, alpha=context.alpha(SIGNAL), settings=settings)
    if left_out:
        result = replace(result, details={**result.details, "rows_left_out_non_finite": left_out})
    return [result]
