"""Drift metrics on categorical and binary columns given as category -> count mappings.

The categories of both sides are aligned on their union; a category missing on
one side counts 0 there. Categories are ordered by value (by type name then
``str`` when values of different types cannot be compared), which keeps every
result independent of the mappings' insertion order.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2_contingency, norm

from monitor.errors import DataError
from monitor.metrics._divergences import DistanceName, distance_from_counts, shares
from monitor.metrics._types import MetricResult

CategoryCounts = Mapping[Hashable, float]


def _ordered(categories: set[Hashable]) -> list[Hashable]:
    try:
        return sorted(categories)  # type: ignore[type-var]
    except TypeError:
        return sorted(categories, key=lambda c: (type(c).__name__, str(c)))


def _is_count(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number >= 0


def align_categories(
    ref_counts: CategoryCounts, cur_counts: CategoryCounts
) -> tuple[list[Hashable], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Put two category -> count mappings on their union of categories.

    Parameters
    ----------
    ref_counts, cur_counts
        Non-negative finite counts per category.

    Returns
    -------
    categories : list
        The union, ordered.
    ref, cur : ndarray
        Counts in that order, 0 where a side lacks the category.

    Examples
    --------
    >>> align_categories({"b": 2, "a": 1}, {"c": 5})
    (['a', 'b', 'c'], array([1., 2., 0.]), array([0., 0., 5.]))
    """
    for side, counts in (("ref", ref_counts), ("cur", cur_counts)):
        if not isinstance(counts, Mapping):
            raise DataError(
                f"{side}_counts must be a mapping category -> count; got {type(counts).__name__}."
            )
        bad = {k: v for k, v in counts.items() if not _is_count(v)}
        if bad:
            raise DataError(f"{side}_counts must be finite and >= 0; got {bad!r}.")
    categories = _ordered(set(ref_counts) | set(cur_counts))
    ref = np.array([float(ref_counts.get(c, 0)) for c in categories], dtype=np.float64)
    cur = np.array([float(cur_counts.get(c, 0)) for c in categories], dtype=np.float64)
    return categories, ref, cur


def _categorical_distance(
    name: DistanceName, ref_counts: CategoryCounts, cur_counts: CategoryCounts
) -> MetricResult:
    _, ref, cur = align_categories(ref_counts, cur_counts)
    return distance_from_counts(name, ref, cur)


def jensenshannon_categorical(
    ref_counts: CategoryCounts, cur_counts: CategoryCounts
) -> MetricResult:
    """Jensen-Shannon distance of the category shares, natural log, in ``[0, sqrt(ln 2)]``.

    Equal to ``scipy.spatial.distance.jensenshannon(p, q)`` (Evidently's
    ``jensenshannon`` test; its threshold is 0.1).

    Parameters
    ----------
    ref_counts, cur_counts
        Category -> count; each side needs a positive total.

    Returns
    -------
    MetricResult
        ``metric="jensenshannon"``, ``p_value=None``.

    Examples
    --------
    >>> round(jensenshannon_categorical({"a": 1}, {"b": 1}).statistic, 4)  # sqrt(ln 2)
    0.8326
    """
    return _categorical_distance("jensenshannon", ref_counts, cur_counts)


def hellinger_categorical(ref_counts: CategoryCounts, cur_counts: CategoryCounts) -> MetricResult:
    """Hellinger distance of the category shares, in ``[0, 1]``.

    Parameters
    ----------
    ref_counts, cur_counts
        Category -> count; each side needs a positive total.

    Returns
    -------
    MetricResult
        ``metric="hellinger"``, ``p_value=None``.
    """
    return _categorical_distance("hellinger", ref_counts, cur_counts)


def psi_categorical(ref_counts: CategoryCounts, cur_counts: CategoryCounts) -> MetricResult:
    """Population Stability Index of the category shares (empty share -> ``1e-4``).

    Parameters
    ----------
    ref_counts, cur_counts
        Category -> count; each side needs a positive total.

    Returns
    -------
    MetricResult
        ``metric="psi"``, ``p_value=None``.
    """
    return _categorical_distance("psi", ref_counts, cur_counts)


def l_infinity_categorical(ref_counts: CategoryCounts, cur_counts: CategoryCounts) -> MetricResult:
    """Largest absolute difference of category shares, ``max |p - q|``, in ``[0, 1]``.

    Parameters
    ----------
    ref_counts, cur_counts
        Category -> count; each side needs a positive total.

    Returns
    -------
    MetricResult
        ``metric="l_infinity"``, ``p_value=None``.
    """
    return _categorical_distance("l_infinity", ref_counts, cur_counts)


def chisquare_categorical(
    ref_counts: CategoryCounts, cur_counts: CategoryCounts, *, correction: bool = True
) -> MetricResult:
    """Chi-squared test of homogeneity on the 2 x K table of counts.

    ``scipy.stats.chi2_contingency`` on rows (ref, cur) after dropping the
    categories with zero count on both sides. With one category left there is
    nothing to compare: statistic 0, p-value 1.

    Parameters
    ----------
    ref_counts, cur_counts
        Category -> count; each side needs a positive total.
    correction
        Yates' continuity correction when the table is 2 x 2 (scipy's default).

    Returns
    -------
    MetricResult
        ``metric="chisquare"``, the chi-squared statistic and its p-value.

    Examples
    --------
    >>> r = chisquare_categorical({"a": 50, "b": 50}, {"a": 50, "b": 50})
    >>> r.statistic, r.p_value
    (0.0, 1.0)
    """
    _, ref, cur = align_categories(ref_counts, cur_counts)
    shares(ref, side="ref")  # raises on an empty side
    shares(cur, side="cur")
    table = np.vstack((ref, cur))
    table = table[:, table.sum(axis=0) > 0]
    result = chi2_contingency(table, correction=correction)
    return MetricResult(
        metric="chisquare", statistic=float(result.statistic), p_value=float(result.pvalue)
    )


def ztest_proportions(
    ref_counts: CategoryCounts, cur_counts: CategoryCounts, *, positive: Hashable | None = None
) -> MetricResult:
    """Two-proportion pooled z-test on a binary column, two-sided.

    ``z = (q - p) / sqrt(s (1 - s) (1/n + 1/m))`` where ``p`` and ``q`` are the
    reference and current shares of the positive category and ``s`` the pooled
    share; the p-value is ``2 * norm.sf(|z|)``. ``z**2`` equals the uncorrected
    chi-squared statistic of the 2 x 2 table. When the pooled share is 0 or 1 both
    shares are equal: statistic 0, p-value 1.

    Parameters
    ----------
    ref_counts, cur_counts
        Category -> count; each side needs a positive total.
    positive
        The category counted as positive; every other category is negative. By
        default the larger of the (at most two) categories: ``max`` of their
        values, or of their ``str`` when they cannot be compared.

    Returns
    -------
    MetricResult
        ``metric="ztest"``, the signed z statistic (positive when the current
        positive share is higher) and the p-value.

    Examples
    --------
    >>> r = ztest_proportions({0: 60, 1: 40}, {0: 40, 1: 60})
    >>> round(r.statistic, 4), round(r.p_value, 4)
    (2.8284, 0.0047)
    """
    categories, ref, cur = align_categories(ref_counts, cur_counts)
    if positive is None:
        if len(categories) > 2:
            raise DataError(
                f"ztest needs a binary column; got {len(categories)} categories "
                f"{categories!r}. Pass positive= to test one category against the rest."
            )
        try:
            positive = max(categories)  # type: ignore[type-var]
        except TypeError:
            positive = max(categories, key=str)
    shares(ref, side="ref")  # raises on an empty side
    shares(cur, side="cur")
    n, m = float(ref.sum()), float(cur.sum())
    index = categories.index(positive) if positive in categories else None
    ref_hits = float(ref[index]) if index is not None else 0.0
    cur_hits = float(cur[index]) if index is not None else 0.0
    p, q = ref_hits / n, cur_hits / m
    pooled = (ref_hits + cur_hits) / (n + m)
    variance = pooled * (1 - pooled) * (1 / n + 1 / m)
    if variance <= 0:
        return MetricResult(metric="ztest", statistic=0.0, p_value=1.0)
    z = (q - p) / math.sqrt(variance)
    return MetricResult(metric="ztest", statistic=float(z), p_value=float(2 * norm.sf(abs(z))))
