"""Two-sample tests with a known null law, computable from profiles.

These are the tests the false-alarm budget rests on: each gives a p-value that
is exact, or asymptotically valid at the window sizes monitors run, when the
window and the reference come from the same distribution.

* :func:`mann_whitney_counts` / :func:`mann_whitney_sample` — a shift in location,
  distribution-free: the rank-sum of the window among the pooled values, from the
  counts of ordered bins (ties as mid-ranks, tie-corrected variance) or from the raw
  values. Its null law does not depend on the data's shape (skewed, heavy-tailed or
  discrete), which a t or z test on the means cannot promise at small windows.
* :func:`welch_test` — difference of means from mergeable moments, Welch's t law;
  reported, not used for paging (it is not valid for skewed data in small windows).
* :func:`chisquare_pooled` — homogeneity of two category-count tables, sparse
  categories pooled until every expected count is at least ``min_expected``,
  Fisher's exact test when two categories remain.
* :func:`rate_increase_test` — one-sided: is a rate (nulls, type errors) higher
  in the window than in the reference? Fisher's exact (hypergeometric) law.
* :func:`exceedance_test` — one-sided: more window values outside the
  reference's ``[min, max]`` than exchangeable data would give? Under no change
  the count is beta-binomial ``(m, 2, n - 1)`` for continuous data (discrete
  data give fewer, so the test is conservative).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import special, stats

from monitor.metrics._types import Histogram

__all__ = [
    "chisquare_pooled",
    "exceedance_test",
    "holm_levels",
    "ks_two_sample",
    "mann_whitney_counts",
    "mann_whitney_sample",
    "rate_increase_test",
    "total_variation",
    "welch_test",
]


def _rank_sum_p(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """``(z, two-sided p)`` of the rank-sum test for counts of ordered, tied groups."""
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    n, m = r.sum(), c.sum()
    total = n + m
    if n == 0 or m == 0:
        return math.nan, math.nan
    t = r + c
    midrank = np.cumsum(t) - (t - 1) / 2  # mean rank of each tied group
    u = float(np.dot(c, midrank)) - m * (m + 1) / 2
    ties = float(np.sum(t**3 - t))
    var = n * m / 12 * ((total + 1) - ties / (total * (total - 1)))
    if var <= 0:
        return 0.0, 1.0
    z = (u - n * m / 2) / math.sqrt(var)
    return z, float(min(1.0, 2 * special.ndtr(-abs(z))))


def mann_whitney_counts(ref: Histogram, cur: Histogram) -> float:
    """Two-sided rank-sum (Mann–Whitney) p-value from two histograms on the same edges.

    The bins (with the under- and overflow as the outermost groups) are ordered groups
    of tied values; ranks are mid-ranks and the variance is tie-corrected. On bins that
    hold one distinct value each this equals the test on the raw values.

    >>> edges = np.array([0.5, 1.5, 2.5, 3.5])
    >>> a, b = np.array([1, 1, 2, 2, 3, 3, 3]), np.array([2, 3, 3, 3, 3])
    >>> ra, _ = np.histogram(a, edges)
    >>> rb, _ = np.histogram(b, edges)
    >>> p = mann_whitney_counts(Histogram(edges, ra), Histogram(edges, rb))
    >>> ref = stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue
    >>> bool(abs(p - ref) < 1e-12)
    True
    """
    rc = np.concatenate([[ref.under_count], ref.counts, [ref.over_count]])
    cc = np.concatenate([[cur.under_count], cur.counts, [cur.over_count]])
    return _rank_sum_p(rc, cc)[1]


def mann_whitney_sample(ref: np.ndarray, cur: np.ndarray) -> float:
    """Two-sided rank-sum (Mann–Whitney) p-value on raw values (normal law, tie-corrected).

    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.lognormal(size=300), rng.lognormal(0.2, size=80)
    >>> ref = stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue
    >>> bool(abs(mann_whitney_sample(a, b) - ref) < 1e-12)
    True
    """
    values, inverse = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    groups = len(values)
    rc = np.bincount(inverse[: len(ref)], minlength=groups)
    cc = np.bincount(inverse[len(ref) :], minlength=groups)
    return _rank_sum_p(rc, cc)[1]


def welch_test(n1: int, mean1: float, var1: float, n2: int, mean2: float, var2: float) -> float:
    """Two-sided p-value of Welch's t-test for equal means, from moments.

    ``var`` are population variances (ddof=0), as profiles keep them; the degrees of
    freedom are Welch–Satterthwaite's.

    >>> a, b = np.arange(10.0), np.arange(3.0, 15.0)
    >>> p = welch_test(10, a.mean(), a.var(), 12, b.mean(), b.var())
    >>> bool(abs(p - stats.ttest_ind(a, b, equal_var=False).pvalue) < 1e-12)
    True
    """
    if n1 < 2 or n2 < 2:
        return 1.0
    v1, v2 = var1 * n1 / (n1 - 1), var2 * n2 / (n2 - 1)
    se2 = v1 / n1 + v2 / n2
    diff = mean2 - mean1
    if not math.isfinite(se2) or not math.isfinite(diff):
        return math.nan
    if se2 <= 0:
        return 1.0 if diff == 0 else 0.0
    dof = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    return float(min(1.0, 2 * special.stdtr(dof, -abs(diff) / math.sqrt(se2))))


#: Above this effective size the KS p-value uses Kolmogorov's limit law (see :func:`ks_sf`).
KS_LIMIT_ABOVE = 10_000


def ks_sf(d: float, effective_n: int) -> float:
    """Two-sided p-value of a KS statistic ``d`` at effective size ``n·m/(n+m)``.

    Up to :data:`KS_LIMIT_ABOVE` this is ``scipy.stats.kstwo.sf(d, n)``, the formula of
    ``ks_2samp(method="asymp")``. Beyond it, scipy's finite-``n`` law costs up to half a
    second per call at a million rows, while Kolmogorov's limit ``kstwobign.sf(d·√n)``
    costs microseconds. The limit is never below the finite-``n`` value (the test is
    conservative) and exceeds it by at most 5 % of the p-value at ``n = 10,000`` and 1 %
    at ``n = 100,000``, down to p = 1e-14 (``tests/monitor/test_two_sample_tests.py``
    checks both on a grid).

    >>> round(ks_sf(0.02, 5_000), 4), round(ks_sf(0.002, 500_000), 4)
    (0.0364, 0.0368)
    """
    n = int(effective_n)
    if not math.isfinite(d) or n < 1:
        return math.nan
    p = stats.kstwo.sf(d, n) if n <= KS_LIMIT_ABOVE else stats.kstwobign.sf(d * math.sqrt(n))
    return float(min(1.0, max(0.0, p)))


def ks_two_sample(
    ref: np.ndarray, cur: np.ndarray, *, exact_below: int = 100_000
) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic and two-sided p-value on raw values.

    The p-value is scipy's exact one when ``n·m <= exact_below`` and otherwise the
    asymptotic p-value of :func:`ks_sf` at ``round(n·m/(n+m))`` (scipy's
    ``ks_2samp(method="asymp")`` up to 10,000), computed without scipy's per-call overhead.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=2000), rng.normal(0.1, size=1500)
    >>> d, p = ks_two_sample(a, b)
    >>> r = stats.ks_2samp(a, b, method="asymp")
    >>> bool(abs(d - r.statistic) < 1e-12 and abs(p - r.pvalue) < 1e-12)
    True
    """
    a, b = np.sort(np.asarray(ref, dtype=np.float64)), np.sort(np.asarray(cur, dtype=np.float64))
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return math.nan, math.nan
    if n * m <= exact_below:
        res = stats.ks_2samp(a, b, method="exact")
        return float(res.statistic), float(res.pvalue)
    grid = np.concatenate([a, b])
    d = float(
        np.max(
            np.abs(
                np.searchsorted(a, grid, side="right") / n
                - np.searchsorted(b, grid, side="right") / m
            )
        )
    )
    return d, ks_sf(d, round(n * m / (n + m)))


def chisquare_pooled(
    ref: Mapping[str, int], cur: Mapping[str, int], *, min_expected: float = 5.0
) -> tuple[float, int, float]:
    """Homogeneity test of two count tables; returns ``(statistic, df, p_value)``.

    Categories are sorted by pooled count; the rarest are merged into one pooled
    category until every expected count (of both samples) is at least
    ``min_expected``. With two categories left, the p-value is Fisher's exact test.

    >>> s, df, p = chisquare_pooled({"a": 500, "b": 500}, {"a": 500, "b": 500})
    >>> df, round(p, 3)
    (1, 1.0)
    """
    keys = sorted(set(ref) | set(cur), key=lambda k: (-(ref.get(k, 0) + cur.get(k, 0)), k))
    table = np.array([[ref.get(k, 0), cur.get(k, 0)] for k in keys], dtype=np.float64)
    table = table[table.sum(axis=1) > 0]
    n_ref, n_cur = table[:, 0].sum(), table[:, 1].sum()
    if n_ref == 0 or n_cur == 0 or len(table) < 2:
        return 0.0, 0, 1.0
    share_min = min(n_ref, n_cur) / (n_ref + n_cur)
    # pool the rarest rows (the table is sorted by pooled count, descending)
    while len(table) > 1 and table[-1].sum() * share_min < min_expected:
        table = np.vstack([table[:-2], table[-2:].sum(axis=0, keepdims=True)])
        order = np.argsort(-table.sum(axis=1), kind="stable")
        table = table[order]
    if len(table) < 2:
        return 0.0, 0, 1.0
    if len(table) == 2:
        _, p = stats.fisher_exact(table.astype(np.int64))
        return float("nan"), 1, float(min(1.0, p))
    statistic, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return float(statistic), int(dof), float(p)


def rate_increase_test(k_ref: int, n_ref: int, k_cur: int, n_cur: int) -> float:
    """One-sided Fisher exact p-value that the window's rate exceeds the reference's.

    >>> round(rate_increase_test(10, 1000, 30, 1000), 5)
    0.001
    """
    if n_cur == 0 or n_ref == 0 or k_cur == 0:
        return 1.0
    total = n_ref + n_cur
    return float(min(1.0, stats.hypergeom.sf(k_cur - 1, total, k_ref + k_cur, n_cur)))


def exceedance_test(k_cur: int, n_cur: int, n_ref: int) -> float:
    """One-sided p-value of ``k_cur`` of ``n_cur`` window values outside the reference range.

    With ``n_ref`` continuous reference values, the probability mass outside their
    ``[min, max]`` is ``Beta(2, n_ref - 1)``, so the count is beta-binomial.

    >>> round(exceedance_test(0, 100, 1000), 3)
    1.0
    """
    if k_cur <= 0 or n_cur == 0:
        return 1.0
    if n_ref < 2:
        return 1.0
    return float(min(1.0, stats.betabinom.sf(k_cur - 1, n_cur, 2, n_ref - 1)))


def holm_levels(p_values: Sequence[float | None], alpha: float) -> list[float | None]:
    """The significance level each p-value had to beat under Holm's step-down.

    Holm rejects the ``i``-th smallest p-value (0-based) while every smaller one was
    rejected and it is below ``alpha / (m - i)``; the first that fails stops the
    procedure, and every later one is judged at that same level (and fails).
    ``None``/NaN entries are not tests and get ``None``.

    >>> holm_levels([0.001, 0.04, 0.02], 0.05)
    [0.016666666666666666, 0.05, 0.025]
    """
    present = [(p, i) for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(p_values)
    m = len(present)
    stopped: float | None = None
    for rank, (p, i) in enumerate(sorted(present)):
        level = alpha / (m - rank) if stopped is None else stopped
        if stopped is None and p >= level:
            stopped = level
        out[i] = level
    return out


def bh_levels(p_values: Sequence[float | None], alpha: float) -> list[float | None]:
    """The level each p-value is judged at under Benjamini–Hochberg (FDR ``alpha``).

    Every p-value at or below the largest ``p_(k) <= k·alpha/m`` is rejected; the
    level returned is that cut-off (or ``alpha/m`` when none is rejected).

    >>> [round(x, 6) for x in bh_levels([0.01, 0.04, 0.03], 0.05)]
    [0.05, 0.05, 0.05]
    """
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None and not math.isnan(p))
    m = len(present)
    out: list[float | None] = [None] * len(p_values)
    cut = alpha / m if m else alpha
    for rank, (p, _) in enumerate(present, start=1):
        if p <= rank * alpha / m:
            cut = rank * alpha / m
    for _, i in present:
        out[i] = cut
    return out


def total_variation(ref: Mapping[str, int], cur: Mapping[str, int]) -> float:
    """Total-variation distance of two category distributions (half the L1 distance).

    >>> total_variation({"a": 50, "b": 50}, {"a": 55, "b": 45})
    0.05
    """
    n_ref, n_cur = sum(ref.values()), sum(cur.values())
    if n_ref == 0 or n_cur == 0:
        return math.nan
    keys = set(ref) | set(cur)
    return round(0.5 * sum(abs(ref.get(k, 0) / n_ref - cur.get(k, 0) / n_cur) for k in keys), 15)
