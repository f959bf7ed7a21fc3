"""Multivariate drift: changes in the joint distribution that per-feature tests miss.

Two methods; both are judged by an exact rank test, so the false-alarm rate on a window
with no change is at most the signal's share of the budget at every window size:

* ``pca`` (default): fitted ONCE at baseline creation (:func:`fit_pca_part`). The
  baseline's reservoir sample is split in two: on one half the columns are imputed
  (median), standardised and reduced to the principal components explaining
  :data:`PCA_VARIANCE` of the variance; the other half is held out, and the per-row
  reconstruction errors of its rows are stored. A window's rows are scored the same way
  and compared with the held-out errors by a one-sided Mann–Whitney U test (window errors
  larger). Under no change both sets of errors are i.i.d. draws of the same law (the PCA
  never saw either), so the test is exact. The effect is the relative increase of the
  mean error, ``mean(window) / mean(held out) - 1``.
* ``domain_classifier`` (optional): gradient boosting learns to tell window rows from
  baseline rows on one half of each; its scores on the other halves are compared by the
  same one-sided Mann–Whitney test (its U statistic is the held-out ROC AUC). The effect is
  ``AUC - 0.5``.

With both methods the signal's alpha is split between them (Bonferroni).

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> x = rng.multivariate_normal([0, 0], [[1, .9], [.9, 1]], size=2000)
>>> part = fit_pca_part(pd.DataFrame(x, columns=["a", "b"]), ["a", "b"], seed=0)
>>> flipped = rng.multivariate_normal([0, 0], [[1, -.9], [-.9, 1]], size=300)
>>> r = judge_pca(part, pd.DataFrame(flipped, columns=["a", "b"]), alpha=0.01, min_effect=0.1)
>>> r.status, r.p_value < 1e-10
('alert', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field
from scipy.stats import mannwhitneyu
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from monitor.errors import DataError
from monitor.signals.base import SignalSettings, error, no_data
from monitor.signals.results import SignalResult

if TYPE_CHECKING:
    from monitor.signals.base import SignalContext

__all__ = [
    "PCA_VARIANCE",
    "MultivariateDriftSettings",
    "evaluate",
    "fit_multivariate_part",
    "fit_pca_part",
    "judge_domain_classifier",
    "judge_pca",
    "pca_row_errors",
]

SIGNAL = "multivariate_drift"
PCA_METRIC = "pca_reconstruction_error"
DC_METRIC = "domain_classifier_auc"
PCA_VARIANCE = 0.65  # share of the (standardised) baseline variance the kept components explain
MIN_BASELINE_ROWS = 100  # each half of the reservoir needs 50+ rows
MAX_HELD_OUT = 5000  # held-out errors stored with the baseline
FloatArray = NDArray[np.float64]


class MultivariateDriftSettings(SignalSettings):
    """``signals.multivariate_drift``.

    Parameters
    ----------
    methods
        ``pca`` (default) and/or ``domain_classifier``; with both, the signal's alpha is
        split between them (Bonferroni).
    min_rows
        Fewer sampled window rows than this give ``no_data`` (default 50).
    min_effect
        PCA: the smallest relative increase of the mean reconstruction error that pages
        (default 0.10, i.e. 10 % above the held-out baseline rows).
    min_auc_effect
        Domain classifier: the smallest ``AUC - 0.5`` that pages (default 0.05).
    sample_size
        Domain classifier: at most this many rows of each side (default 2000).
    """

    methods: tuple[Literal["pca", "domain_classifier"], ...] = Field(default=("pca",), min_length=1)
    min_rows: int = Field(default=50, ge=10)
    min_effect: float = Field(default=0.10, gt=0)
    min_auc_effect: float = Field(default=0.05, gt=0, lt=0.5)
    sample_size: int = Field(default=2000, ge=100)


# --- fitted once, at baseline creation --------------------------------------------------


def _numeric_matrix(frame: pd.DataFrame, columns: list[str]) -> FloatArray:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"the rows lack columns {missing}; available: {list(frame.columns)}")
    return frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def _finite_rows(x: FloatArray) -> NDArray[np.bool_]:
    """Rows without ±inf (NaN is a missing value, imputed with the baseline median)."""
    return np.asarray(~np.isinf(x).any(axis=1), dtype=bool)


def principal_axes(z: FloatArray, variance: float) -> FloatArray:
    """The leading principal axes of centred data ``z`` (rows: axes) explaining ``variance``.

    The eigenvectors of the ``d×d`` covariance, largest first: the same subspace as
    scikit-learn's ``PCA(n_components=variance)`` (the fewest components whose explained
    variance ratio reaches ``variance``), at the cost of one ``d×d`` eigendecomposition
    instead of an SVD of the ``n×d`` data. Keeping every component would reconstruct
    exactly, so at most ``d - 1`` are kept.

    >>> z = np.random.default_rng(0).normal(size=(500, 3)) * [3.0, 1.0, 0.1]
    >>> principal_axes(z - z.mean(axis=0), 0.8).shape
    (1, 3)
    """
    eigenvalues, eigenvectors = np.linalg.eigh(z.T @ z / max(len(z) - 1, 1))
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues = np.clip(eigenvalues[order], 0.0, None)
    ratio = (
        np.cumsum(eigenvalues) / eigenvalues.sum() if eigenvalues.sum() > 0 else np.ones(len(order))
    )
    k = int(np.searchsorted(ratio, variance, side="right")) + 1
    return np.ascontiguousarray(eigenvectors[:, order[: min(k, z.shape[1] - 1)]].T)


def fit_pca_part(
    sample: pd.DataFrame, columns: list[str], *, seed: int = 0, variance: float = PCA_VARIANCE
) -> dict[str, Any]:
    """Fit the PCA on half of ``sample`` and store the other half's per-row errors (JSON).

    Raises
    ------
    DataError
        Fewer than 2 columns or fewer than :data:`MIN_BASELINE_ROWS` usable rows.
    """
    if len(columns) < 2:
        raise DataError(
            f"PCA reconstruction needs 2+ numeric columns, got {columns}; joint drift of one "
            "column is its marginal drift (data_drift)"
        )
    x = _numeric_matrix(sample, columns)
    x = x[_finite_rows(x)]
    if len(x) < MIN_BASELINE_ROWS:
        raise DataError(
            f"the baseline sample has {len(x)} usable rows; PCA reconstruction drift needs at "
            f"least {MIN_BASELINE_ROWS} (half to fit, half held out); rebuild the baseline "
            "from more reference rows"
        )
    order = np.random.default_rng(seed).permutation(len(x))
    fit_rows, held_rows = order[: len(x) // 2], order[len(x) // 2 :][:MAX_HELD_OUT]
    fit = x[fit_rows]
    median = np.nanmedian(fit, axis=0)
    median = np.where(np.isnan(median), 0.0, median)  # an all-missing column
    fit = np.where(np.isnan(fit), median, fit)
    mean, scale = fit.mean(axis=0), fit.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (fit - mean) / scale
    components = principal_axes(z, variance)
    part: dict[str, Any] = {
        "columns": list(columns),
        "median": median.tolist(),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "components": components.tolist(),
        "variance": variance,
        "seed": seed,
        "fit_rows": len(fit_rows),
    }
    part["held_out_errors"] = pca_row_errors(part, x[held_rows]).tolist()
    return part


def pca_row_errors(part: dict[str, Any], x: FloatArray) -> FloatArray:
    """Per-row Euclidean reconstruction error in the standardised space (NaN: the median)."""
    median, mean, scale = (np.asarray(part[k], dtype=float) for k in ("median", "mean", "scale"))
    comp = np.asarray(part["components"], dtype=float)
    z = (np.where(np.isnan(x), median, x) - mean) / scale
    return np.linalg.norm(z - z @ comp.T @ comp, axis=1)


def fit_multivariate_part(
    sample: pd.DataFrame, numeric: list[str], categorical: list[str], *, seed: int = 0
) -> dict[str, Any]:
    """The baseline's ``multivariate`` part: the PCA state, and the domain classifier's columns."""
    out: dict[str, Any] = {"numeric": list(numeric), "categorical": list(categorical)}
    try:
        out["pca"] = fit_pca_part(sample, numeric, seed=seed)
    except DataError as err:
        out["pca"] = {"error": str(err)}
    out["domain_classifier"] = {
        "numeric": list(numeric),
        "categorical": list(categorical),
        "categories": {
            c: sorted(sample[c].dropna().astype(str).value_counts().index[:250])
            for c in categorical
            if c in sample
        },
        "seed": seed,
    }
    return out


# --- judged per window ------------------------------------------------------------------


def _status(
    p: float, alpha: float, effect: float, min_effect: float
) -> Literal["ok", "warning", "alert"]:
    significant = alpha > 0 and p <= alpha
    if not significant:
        return "ok"
    return "alert" if effect >= min_effect else "warning"


def judge_pca(
    part: dict[str, Any],
    window: pd.DataFrame,
    *,
    alpha: float,
    min_effect: float,
    correction: str = "none",
) -> SignalResult:
    """One-sided Mann–Whitney test of the window's per-row errors against the held-out ones."""
    x = _numeric_matrix(window, part["columns"])
    finite = _finite_rows(x)
    dropped = int((~finite).sum())
    held = np.asarray(part["held_out_errors"], dtype=float)
    errors = pca_row_errors(part, x[finite])
    n = int(errors.size)
    note = f"; {dropped} row(s) with ±inf values dropped" if dropped else ""
    if n == 0:
        return no_data(SIGNAL, PCA_METRIC, f"no window row has finite values{note}", n=len(window))
    test = mannwhitneyu(errors, held, alternative="greater")
    p = float(test.pvalue)
    ref_mean, value = float(held.mean()), float(errors.mean())
    effect = value / ref_mean - 1 if ref_mean > 0 else float("inf")
    status = _status(p, alpha, effect, min_effect)
    threshold = ref_mean * (1 + min_effect)
    return SignalResult(
        signal=SIGNAL, metric=PCA_METRIC, value=value, threshold=threshold, status=status,
        p_value=p, statistic=float(test.statistic), alpha=alpha, effect_size=effect, min_effect=min_effect,
        correction=correction, reference_size=int(held.size), current_size=n,
        message=(
            f"mean reconstruction error {value:.4g} vs {ref_mean:.4g} on held-out baseline rows "
            f"({effect:+.1%}; pages from {min_effect:+.0%}); one-sided Mann-Whitney p={p:.3g} "
            f"at alpha {alpha:.3g}{note}"
        ),
        details={
            "components": len(part["components"]), "held_out_mean": ref_mean,
            "dropped_non_finite": dropped, "test": "mann-whitney-u, one-sided (greater)",
        },
    )  # fmt: skip


def _encode(frame: pd.DataFrame, part: dict[str, Any]) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for c in part["numeric"]:
        out[c] = (
            pd.to_numeric(frame[c], errors="coerce")
            .astype(float)
            .replace([np.inf, -np.inf], np.nan)
        )
    for c in part["categorical"]:
        out[c] = pd.Categorical(frame[c].astype("string"), categories=part["categories"].get(c, []))
    return out


def judge_domain_classifier(
    part: dict[str, Any],
    reference: pd.DataFrame,
    window: pd.DataFrame,
    *,
    alpha: float,
    min_effect: float,
    sample_size: int = 2000,
    correction: str = "none",
) -> SignalResult:
    """Train on half of each side, test on the other halves: one-sided Mann–Whitney of scores.

    Conditional on the training halves, the test rows' scores are i.i.d. under no change,
    so ``p`` is valid at any size; the U statistic over ``n_ref * n_window`` is the held-out AUC.
    """
    cols = part["numeric"] + part["categorical"]
    missing = [c for c in cols if c not in window.columns]
    if missing:
        return error(
            SIGNAL,
            DC_METRIC,
            f"the window lacks columns {missing}; available: {list(window.columns)}",
        )
    rng = np.random.default_rng(part["seed"])
    n = min(len(window), len(reference), sample_size)
    w = _encode(window, part).iloc[rng.choice(len(window), n, replace=False)]
    b = _encode(reference, part).iloc[rng.choice(len(reference), n, replace=False)]
    half = n // 2
    x_train = pd.concat([b.iloc[:half], w.iloc[:half]], ignore_index=True)
    y_train = np.r_[np.zeros(half), np.ones(half)]
    model = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=part["seed"],
                                           categorical_features="from_dtype")  # fmt: skip
    with threadpool_limits(1):  # OpenMP threads thrash when cores are shared; small fits
        model.fit(x_train, y_train)
        s_ref = model.predict_proba(b.iloc[half:])[:, 1]
        s_win = model.predict_proba(w.iloc[half:])[:, 1]
    test = mannwhitneyu(s_win, s_ref, alternative="greater")
    p = float(test.pvalue)
    auc = float(test.statistic) / (len(s_win) * len(s_ref))
    status = _status(p, alpha, auc - 0.5, min_effect)
    return SignalResult(
        signal=SIGNAL, metric=DC_METRIC, value=auc, threshold=0.5 + min_effect, status=status, p_value=p,
        statistic=float(test.statistic), alpha=alpha, effect_size=auc - 0.5, min_effect=min_effect,
        correction=correction, reference_size=len(s_ref), current_size=len(s_win),
        message=(
            f"domain classifier held-out ROC AUC {auc:.3f} (0.5 = window looks like the baseline; "
            f"pages from {0.5 + min_effect:.2f}); one-sided Mann-Whitney p={p:.3g} at alpha {alpha:.3g}"
        ),
        details={"rows_each": n, "trained_on_each": half, "test": "mann-whitney-u, one-sided (greater)"},
    )  # fmt: skip


def evaluate(context: SignalContext, settings: MultivariateDriftSettings) -> list[SignalResult]:
    """One result per method in ``settings.methods``; see the module docstring."""
    metrics = {"pca": PCA_METRIC, "domain_classifier": DC_METRIC}
    methods = list(dict.fromkeys(settings.methods))
    parts = (context.baseline.performance or {}).get("multivariate")
    if parts is None:
        why = "the baseline was built before multivariate drift was fitted at baseline time; rebuild it with `raiwatch baseline create`"
        return [no_data(SIGNAL, metrics[m], why) for m in methods]
    cur = context.window.reservoir.to_pandas()
    if len(cur) < settings.min_rows:
        why = f"the window has {len(cur)} sampled rows; multivariate drift needs at least {settings.min_rows}"
        return [no_data(SIGNAL, metrics[m], why, n=len(cur)) for m in methods]
    alpha = context.alpha(SIGNAL) / len(methods)
    correction = "bonferroni" if len(methods) > 1 else "none"
    results: list[SignalResult] = []
    for m in methods:
        part = parts.get(m, {})
        if "error" in part:
            results.append(no_data(SIGNAL, metrics[m], str(part["error"]), n=len(cur)))
            continue
        try:
            if m == "pca":
                results.append(
                    judge_pca(
                        part,
                        cur,
                        alpha=alpha,
                        min_effect=settings.min_effect,
                        correction=correction,
                    )
                )
            else:
                ref = context.baseline.profile.reservoir.to_pandas()
                results.append(judge_domain_classifier(
                    part, ref, cur, alpha=alpha, min_effect=settings.min_auc_effect,
                    sample_size=settings.sample_size, correction=correction,
                ))  # fmt: skip
        except DataError as err:
            results.append(error(SIGNAL, metrics[m], str(err), n=len(cur)))
    return results
