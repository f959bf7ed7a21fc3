"""Intervals and a test of "no disparity" for between-group fairness figures.

Everything here is vectorised over resamples: group metrics are recounted from
``np.bincount`` over ``(resample, group)`` cells, so thousands of resamples of a test
set take a fraction of a second.

* **Per-group intervals**: percentile intervals of a *stratified* bootstrap (rows are
  resampled within each group, so group sizes stay as observed).
* **Pairwise signed differences** ``value(b) - value(a)`` for every pair of groups
  (``a < b`` in sorted order) with *simultaneous* intervals: a studentised max-|t|
  bootstrap band, ``d ± c·se`` where ``se`` is the bootstrap standard deviation of each
  difference and ``c`` is the 95 % quantile of ``max_k |d*_k - d_k| / se_k``. With two
  groups this is the interval of the one signed difference.
* **Between-group difference** (fairlearn's ``max - min``, i.e. the largest
  ``|d_k|``): its interval is ``[max_k dist(0, I_k), max_k max|I_k|]``. When every
  pairwise interval covers its true difference (probability ≈ 95 % by construction),
  this interval covers the true between-group difference, so it can and does contain 0.
* **Ratios** (``min / max``): the same band on log values, transformed back.
* **Test of no disparity**: a permutation test. Under H0 the sensitive feature is
  independent of (label, prediction); the group labels are permuted and the statistic is
  the between-group difference. ``p = (1 + #{T* >= T}) / (1 + permutations)``.

>>> import numpy as np
>>> y = np.array([1, 0, 1, 0, 1, 1, 0, 0])
>>> p = np.array([1, 0, 1, 1, 1, 0, 0, 0])
>>> stats = group_statistics("binary", y, p, np.array([0, 0, 0, 0, 1, 1, 1, 1]), 2, 2)
>>> stats["selection_rate"].tolist()
[0.75, 0.25]
"""

from __future__ import annotations

import warnings
from itertools import combinations
from typing import Any

import numpy as np

CONFIDENCE = 0.95
# Aggregates that combine two group metrics: (name, metrics pooled, kind).
COMBINED = {
    "demographic_parity_difference": (("selection_rate",), "difference"),
    "demographic_parity_ratio": (("selection_rate",), "ratio"),
    "equalized_odds_difference": (("tpr", "fpr"), "difference"),
    "equalized_odds_ratio": (("tpr", "fpr"), "ratio"),
}


def group_statistics(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    n_classes: int,
) -> dict[str, np.ndarray]:
    """Group metrics of one or many resamples, shape ``(..., n_groups)``.

    ``y_true``/``y_pred``/``codes`` share a shape ``(n,)`` or ``(resamples, n)``; for
    binary they are 0/1 (1 = positive class), for multiclass class indices, for
    regression numbers. The metrics and their zero-division rules match fairlearn and
    scikit-learn (``precision`` and macro scores give 0 where undefined; rates NaN).
    """
    return group_statistics_with_counts(task, y_true, y_pred, codes, n_groups, n_classes)[0]


def group_statistics_with_counts(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    n_classes: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """:func:`group_statistics` plus, for metrics that are proportions, their
    denominators per group (rows, positives, negatives, predicted positives)."""
    t, p, g = np.atleast_2d(y_true), np.atleast_2d(y_pred), np.atleast_2d(codes)
    batch, width = max(t.shape[0], p.shape[0], g.shape[0]), t.shape[1]
    flat = (np.arange(batch)[:, None] * n_groups + np.broadcast_to(g, (batch, width))).ravel()

    def count(weights: np.ndarray) -> np.ndarray:
        w = np.broadcast_to(weights, (batch, width)).ravel().astype(float)
        return np.bincount(flat, weights=w, minlength=batch * n_groups).reshape(batch, n_groups)

    n = count(np.ones((1, width)))
    out: dict[str, np.ndarray]
    with np.errstate(invalid="ignore", divide="ignore"):
        if task == "binary":
            tp, fp = count(t * p), count((1 - t) * p)
            fn, tn = count(t * (1 - p)), count((1 - t) * (1 - p))
            out = {
                "selection_rate": (tp + fp) / n,
                "accuracy": (tp + tn) / n,
                "tpr": tp / (tp + fn),
                "fpr": fp / (fp + tn),
                "fnr": fn / (tp + fn),
                "precision": np.where(tp + fp > 0, tp / (tp + fp), 0.0),
            }
            dens = {
                "selection_rate": n,
                "accuracy": n,
                "tpr": tp + fn,
                "fpr": fp + tn,
                "fnr": tp + fn,
                "precision": tp + fp,
            }
        elif task == "multiclass":
            recall, precision = np.zeros_like(n), np.zeros_like(n)
            for c in range(n_classes):
                hit = count((t == c) & (p == c))
                support, predicted = count(t == c), count(p == c)
                recall += np.where(support > 0, hit / support, 0.0)
                precision += np.where(predicted > 0, hit / predicted, 0.0)
            out = {
                "accuracy": count(t == p) / n,
                "macro_recall": recall / n_classes,
                "macro_precision": precision / n_classes,
            }
            dens = {"accuracy": n}
        else:
            error = t.astype(float) - p.astype(float)
            out = {
                "mae": count(np.abs(error)) / n,
                "rmse": np.sqrt(count(error**2) / n),
                "mean_prediction": count(p.astype(float)) / n,
            }
            dens = {}
    if np.ndim(y_true) == 1 and np.ndim(codes) == 1:
        return {k: v[0] for k, v in out.items()}, {k: v[0] for k, v in dens.items()}
    return out, dens


def stratified_bootstrap(codes: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices ``(resamples, n)``: each group's rows resampled within the group.

    Position ``i`` of every resample holds a row of the same group as row ``i``, so the
    group codes need no resampling.
    """
    index = np.empty((resamples, len(codes)), dtype=np.int64)
    for group in np.unique(codes):
        rows = np.flatnonzero(codes == group)
        index[:, rows] = rows[rng.integers(0, len(rows), size=(resamples, len(rows)))]
    return index


def bootstrap_statistics(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    n_classes: int,
    *,
    resamples: int,
    rng: np.random.Generator,
    chunk: int = 2_000_000,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Group statistics and proportion denominators of ``resamples`` stratified bootstrap
    resamples, ``(resamples, n_groups)`` each, computed in chunks of about ``chunk`` cells
    so memory stays bounded on large test sets."""
    step = max(1, chunk // max(1, len(codes)))
    stats: list[dict[str, np.ndarray]] = []
    counts: list[dict[str, np.ndarray]] = []
    done = 0
    while done < resamples:
        size = min(step, resamples - done)
        index = stratified_bootstrap(codes, size, rng)
        part, part_counts = group_statistics_with_counts(
            task, y_true[index], y_pred[index], codes, n_groups, n_classes
        )
        stats.append(part)
        counts.append(part_counts)
        done += size
    return (
        {k: np.concatenate([s[k] for s in stats]) for k in stats[0]},
        {k: np.concatenate([c[k] for c in counts]) for k in counts[0]},
    )


def permuted_codes(codes: np.ndarray, permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Group codes shuffled independently ``permutations`` times, shape ``(permutations, n)``."""
    return rng.permuted(np.broadcast_to(codes, (permutations, len(codes))).copy(), axis=1)


def simultaneous_band(
    point: np.ndarray,
    boots: np.ndarray,
    confidence: float = CONFIDENCE,
    *,
    point_se: np.ndarray | None = None,
    boot_se: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Max-|t| bootstrap band for contrasts ``point`` (k,) from ``boots`` (B, k).

    With ``point_se``/``boot_se`` (standard errors of each contrast at the estimate and
    in every resample) the band is a bootstrap-t band, studentising every resample by
    its own standard error; without them every contrast is scaled by its bootstrap
    standard deviation. Contrasts that are NaN or do not vary get the degenerate
    interval ``[point, point]`` and do not widen the others.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are handled below
        spread = np.nanstd(boots, axis=0, ddof=1) if len(boots) > 1 else np.full(len(point), np.nan)
        if point_se is None or boot_se is None:
            point_se, boot_se = spread, np.broadcast_to(spread, boots.shape)
        usable = np.isfinite(point) & np.isfinite(point_se) & (point_se > 0) & (spread > 0)
        if not usable.any():
            return point.copy(), point.copy()
        t = np.abs(boots[:, usable] - point[usable]) / boot_se[:, usable]
        worst = np.nanmax(np.where(np.isfinite(t), t, np.nan), axis=1)
        critical = float(np.nanquantile(worst[np.isfinite(worst)], confidence))
        half = np.where(usable, critical * np.nan_to_num(point_se), 0.0)
    return point - half, point + half


def proportion_se(values: np.ndarray, denominators: np.ndarray, kind: str) -> np.ndarray:
    """Standard error of a proportion (``kind="difference"``) or of its log (``"ratio"``),
    with half a success added (so 0 % and 100 % keep a positive error)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        adjusted = (values * denominators + 0.5) / (denominators + 1.0)
        if kind == "ratio":
            return np.sqrt((1 - adjusted) / (adjusted * (denominators + 1.0)))
        return np.sqrt(adjusted * (1 - adjusted) / (denominators + 1.0))


def contrast_band(
    metrics: tuple[str, ...],
    kind: str,
    point: dict[str, np.ndarray],
    boots: dict[str, np.ndarray],
    point_counts: dict[str, np.ndarray] | None = None,
    boot_counts: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, int, int]]]:
    """Simultaneous band over every pairwise contrast of ``metrics``.

    Returns the contrasts, their lower and upper bounds and ``(metric, a, b)`` per
    contrast. Proportions with known denominators use a bootstrap-t band.
    """
    transform = _log if kind == "ratio" else _identity
    have_point, have_boot = point_counts or {}, boot_counts or {}
    studentise = all(m in have_point and m in have_boot for m in metrics)
    values: list[np.ndarray] = []
    resampled: list[np.ndarray] = []
    se_point: list[np.ndarray] = []
    se_boot: list[np.ndarray] = []
    labels: list[tuple[str, int, int]] = []
    for metric in metrics:
        contrasts, pairs = pairwise(transform(point[metric]))
        values.append(contrasts)
        resampled.append(pairwise(transform(boots[metric]))[0])
        labels.extend((metric, a, b) for a, b in pairs)
        if studentise:
            se_p = proportion_se(point[metric], have_point[metric], kind)
            se_b = proportion_se(boots[metric], have_boot[metric], kind)
            se_point.append(_pair_se(se_p, pairs))
            se_boot.append(_pair_se(se_b, pairs))
    point_contrasts = np.concatenate(values)
    boot_contrasts = np.concatenate(resampled, axis=1)
    if studentise:
        low, high = simultaneous_band(
            point_contrasts,
            boot_contrasts,
            point_se=np.concatenate(se_point),
            boot_se=np.concatenate(se_boot, axis=1),
        )
    else:
        low, high = simultaneous_band(point_contrasts, boot_contrasts)
    return point_contrasts, low, high, labels


def _pair_se(se: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    if not pairs:
        return np.zeros((*se.shape[:-1], 0))
    a, b = np.array(pairs).T
    return np.sqrt(se[..., a] ** 2 + se[..., b] ** 2)


def pairwise(values: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Signed differences ``values[..., b] - values[..., a]`` for every pair ``a < b``."""
    pairs = list(combinations(range(values.shape[-1]), 2))
    if not pairs:
        return np.zeros((*values.shape[:-1], 0)), pairs
    a, b = np.array(pairs).T
    return values[..., b] - values[..., a], pairs


def largest_abs_interval(low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    """Interval of ``max_k |d_k|`` implied by intervals ``[low_k, high_k]`` of each ``d_k``."""
    keep = np.isfinite(low) & np.isfinite(high)
    if not keep.any():
        return float("nan"), float("nan")
    low, high = low[keep], high[keep]
    nearest = np.where((low <= 0) & (high >= 0), 0.0, np.minimum(np.abs(low), np.abs(high)))
    farthest = np.maximum(np.abs(low), np.abs(high))
    return float(nearest.max()), float(farthest.max())


def between_group(values: np.ndarray) -> np.ndarray:
    """fairlearn's between-groups difference ``max - min`` over the last axis (NaN-aware)."""
    with np.errstate(invalid="ignore"):
        return np.nanmax(values, axis=-1) - np.nanmin(values, axis=-1)


def aggregate_interval(
    point: dict[str, np.ndarray],
    boots: dict[str, np.ndarray],
    metrics: tuple[str, ...],
    kind: str,
    point_counts: dict[str, np.ndarray] | None = None,
    boot_counts: dict[str, np.ndarray] | None = None,
) -> tuple[float, float]:
    """Interval of a difference (``max - min``) or ratio (``min / max``) pooled over
    ``metrics`` (e.g. tpr and fpr for equalized odds), from one simultaneous band."""
    _, low, high, _ = contrast_band(metrics, kind, point, boots, point_counts, boot_counts)
    nearest, farthest = largest_abs_interval(low, high)
    if kind == "ratio":
        return float(np.exp(-farthest)), float(np.exp(-nearest))
    return nearest, farthest


def permutation_p_values(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    n_classes: int,
    *,
    permutations: int,
    rng: np.random.Generator,
    chunk: int = 2_000_000,
) -> dict[str, float | None]:
    """Permutation p-value of "no disparity" for every difference aggregate."""
    observed = _aggregate_statistics(
        group_statistics(task, y_true, y_pred, codes[None, :], n_groups, n_classes)
    )
    exceed = {name: 0 for name in observed}
    step = max(1, chunk // max(1, len(codes)))
    done = 0
    while done < permutations:
        size = min(step, permutations - done)
        shuffled = permuted_codes(codes, size, rng)
        stats = _aggregate_statistics(
            group_statistics(task, y_true, y_pred, shuffled, n_groups, n_classes)
        )
        for name, values in stats.items():
            exceed[name] += int(np.sum(values >= observed[name][0] - 1e-12))
        done += size
    return {
        name: (1 + exceed[name]) / (1 + permutations) if np.isfinite(observed[name][0]) else None
        for name in observed
    }


def _aggregate_statistics(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {f"{m}_difference": between_group(v) for m, v in stats.items()}
    if "tpr" in stats:
        out["demographic_parity_difference"] = out["selection_rate_difference"]
        out["equalized_odds_difference"] = np.fmax(out["tpr_difference"], out["fpr_difference"])
    return out


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)


def _identity(values: np.ndarray) -> np.ndarray:
    return values


def ratio_kind(name: str) -> tuple[tuple[str, ...], str] | None:
    """Metrics and kind of an aggregate name, e.g. ``tpr_ratio`` → ``(("tpr",), "ratio")``."""
    if name in COMBINED:
        return COMBINED[name]
    for kind in ("difference", "ratio"):
        if name.endswith(f"_{kind}"):
            return (name[: -len(kind) - 1],), kind
    return None


__all__: list[Any] = [
    "aggregate_interval",
    "bootstrap_statistics",
    "contrast_band",
    "group_statistics",
    "group_statistics_with_counts",
    "largest_abs_interval",
    "pairwise",
    "permutation_p_values",
    "permuted_codes",
    "simultaneous_band",
    "stratified_bootstrap",
]
