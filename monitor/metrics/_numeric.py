"""CDF-based drift metrics on binned numeric columns: Kolmogorov-Smirnov and Wasserstein.

Both histograms share the baseline's edges. Inside a bin the values are taken as
uniform, so each CDF is piecewise linear between the edges.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from monitor.errors import DataError
from monitor.metrics._two_sample import ks_sf
from monitor.metrics._types import Histogram, MetricResult


def check_histogram_pair(ref: Histogram, cur: Histogram) -> None:
    """Raise :class:`DataError` unless both histograms are non-empty and share their edges.

    Parameters
    ----------
    ref, cur
        The baseline and the window histograms of one column.
    """
    for side, hist in (("ref", ref), ("cur", cur)):
        if not isinstance(hist, Histogram):
            raise DataError(f"{side} must be a Histogram; got {type(hist).__name__}.")
        if hist.total == 0:
            raise DataError(
                f"The {side} histogram is empty (total 0): a drift metric needs at least "
                "one value on each side."
            )
    if ref.edges.shape != cur.edges.shape or not np.array_equal(ref.edges, cur.edges):
        raise DataError(
            f"ref and cur histograms have different bin edges ({ref.n_bins} and {cur.n_bins} "
            "bins): build the window histogram on the baseline's edges."
        )


def ks_binned(ref: Histogram, cur: Histogram) -> MetricResult:
    """Two-sample Kolmogorov-Smirnov test on two histograms.

    The statistic is ``max |F_ref - F_cur|`` over the edges, the under/overflow
    boundaries included. Those are values of the empirical CDFs, so it is never
    above the exact KS statistic on the raw values and at most the largest bin
    (or tail) share of either side below it.

    The p-value is :func:`~monitor.metrics._two_sample.ks_sf` at ``round(n*m/(n+m))``:
    the formula of ``scipy.stats.ks_2samp(method="asymp")`` up to an effective size
    of 10,000 and Kolmogorov's (conservative) limit law beyond. ``ks_2samp``'s default switches to
    the exact distribution when ``n*m < 10000``; for such small windows use
    :func:`ks_sample` on the raw values.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.

    Returns
    -------
    MetricResult
        ``metric="ks"``, the statistic and the two-sided p-value.

    Examples
    --------
    >>> edges = np.array([0.0, 1.0, 2.0])
    >>> r = ks_binned(Histogram(edges, np.array([50, 50])), Histogram(edges, np.array([80, 20])))
    >>> round(r.statistic, 3), round(r.p_value, 4)
    (0.3, 0.0002)
    """
    check_histogram_pair(ref, cur)
    statistic = float(np.max(np.abs(ref.cdf_at_edges() - cur.cdf_at_edges())))
    n, m = ref.total, cur.total
    p_value = ks_sf(statistic, max(1, int(np.round(n * m / (n + m)))))
    return MetricResult(metric="ks", statistic=statistic, p_value=p_value)


def _mean_shortfall_below(hist: Histogram) -> float:
    # E[(edges[0] - X)+]: the integral of the CDF over (-inf, edges[0]).
    gap = hist.under_count * float(hist.edges[0]) - hist.under_sum
    return max(gap, 0.0) / hist.total


def _mean_excess_above(hist: Histogram) -> float:
    # E[(X - edges[-1])+]: the integral of 1 - CDF over (edges[-1], inf).
    gap = hist.over_sum - hist.over_count * float(hist.edges[-1])
    return max(gap, 0.0) / hist.total


def _in_bin_integral(hist: Histogram) -> npt.NDArray[np.float64]:
    # ∫ over each bin of the count of values <= t, divided by n: Σ_{x in bin} (b - x) / n.
    assert hist.sums is not None
    b = hist.edges[1:]
    return (hist.counts * b - hist.sums) / hist.total


def _area_from_sums(
    ref: Histogram,
    cur: Histogram,
    left: npt.NDArray[np.float64],
    right: npt.NDArray[np.float64],
    crossing: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    """Per-bin ``∫|F_ref - F_cur|`` from the per-bin sums.

    ``∫(F_ref - F_cur)`` over a bin is exact from the counts and sums; its absolute
    value is the area when the CDFs do not cross inside the bin. Where the
    difference changes sign between the edges, the area is that of a single step
    placed where it reproduces the exact signed integral — exact for discrete
    columns, whose bins each hold one value.
    """
    a, b = ref.edges[:-1], ref.edges[1:]
    signed = left * (b - a) + _in_bin_integral(ref) - _in_bin_integral(cur)
    denom = np.where(crossing, left - right, 1.0)
    step = np.clip((signed + left * a - right * b) / denom, a, b)
    stepped = np.abs(left) * (step - a) + np.abs(right) * (b - step)
    return np.where(crossing, stepped, np.abs(signed))


def wasserstein_distance_binned(ref: Histogram, cur: Histogram) -> float:
    """Unnormalised Wasserstein-1 distance ``∫|F_ref - F_cur|`` between two histograms.

    Inside the edges the integral is exact for piecewise-linear CDFs, a sign
    change inside a bin included. When both histograms carry per-bin ``sums``
    the integral is exact in every bin where the CDFs do not cross, whatever the
    distribution inside the bin (see :func:`_area_from_sums`). Below ``edges[0]`` the contribution is
    ``|E_ref[(e0-X)+] - E_cur[(e0-X)+]|`` from the tail counts and sums, which is
    exact when only one side has values there and a lower bound otherwise;
    likewise above ``edges[-1]``.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.

    Returns
    -------
    float
        The distance, in the column's units, ``>= 0``.
    """
    check_histogram_pair(ref, cur)
    diff = ref.cdf_at_edges() - cur.cdf_at_edges()
    width = np.diff(ref.edges)
    left, right = diff[:-1], diff[1:]
    abs_sum = np.abs(left) + np.abs(right)
    crossing = left * right < 0
    # Without a crossing the area is a trapezoid; with one, two triangles meeting at zero.
    safe_sum = np.where(crossing, abs_sum, 1.0)
    area = np.where(crossing, (left**2 + right**2) / (2 * safe_sum), abs_sum / 2) * width
    if ref.sums is not None and cur.sums is not None:
        area = _area_from_sums(ref, cur, left, right, crossing)
    below = abs(_mean_shortfall_below(ref) - _mean_shortfall_below(cur))
    above = abs(_mean_excess_above(ref) - _mean_excess_above(cur))
    return float(area.sum() + below + above)


def wasserstein_binned(ref: Histogram, cur: Histogram, *, ref_std: float) -> MetricResult:
    """Normalised Wasserstein distance: W1 / the reference standard deviation.

    The binned counterpart of Evidently's ``wasserstein_distance(ref, cur) / np.std(ref)``;
    W1 is :func:`wasserstein_distance_binned`.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.
    ref_std
        Population standard deviation (``ddof=0``) of the reference values, ``>= 0``.
        When it is 0 the statistic is 0 if W1 is 0 and ``inf`` otherwise: any
        movement away from a constant reference is infinitely many of its
        standard deviations.

    Returns
    -------
    MetricResult
        ``metric="wasserstein"``, ``p_value=None``.

    Examples
    --------
    >>> edges = np.array([0.0, 1.0, 2.0])
    >>> r = wasserstein_binned(
    ...     Histogram(edges, np.array([1, 0])), Histogram(edges, np.array([0, 1])), ref_std=0.5
    ... )
    >>> r.statistic
    2.0
    """
    if not (math.isfinite(ref_std) and ref_std >= 0):
        raise DataError(f"ref_std must be finite and >= 0; got {ref_std!r}.")
    distance = wasserstein_distance_binned(ref, cur)
    return MetricResult(
        metric="wasserstein", statistic=normalise_by_std(distance, ref_std), p_value=None
    )


def normalise_by_std(distance: float, ref_std: float) -> float:
    """``distance / ref_std``, with a constant reference giving 0 (no move) or ``inf`` (any move)."""
    if ref_std == 0:
        return 0.0 if distance == 0 else math.inf
    return distance / ref_std
