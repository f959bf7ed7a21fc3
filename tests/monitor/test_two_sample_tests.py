"""The tests the false-alarm budget rests on, each against an independent computation.

``monitor.metrics._two_sample`` gives the p-values every data signal is judged on.
Each function is checked against scipy (or a closed form written out here) on fixed
inputs, and its validity under "no change" is checked by seeded simulation: the
share of p-values below 0.01 may not exceed 0.01 beyond the binomial 99.9 % quantile
of the number of draws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from monitor.metrics._two_sample import (
    bh_levels,
    chisquare_pooled,
    exceedance_test,
    holm_levels,
    ks_sf,
    ks_two_sample,
    mann_whitney_counts,
    mann_whitney_sample,
    rate_increase_test,
    total_variation,
    welch_test,
)
from tests.monitor.histograms import build_histogram


def at_most(share: float, draws: int, tail: float = 1e-3) -> float:
    """The largest share of ``draws`` hits still consistent with a rate of ``share``."""
    return float(stats.binom.isf(tail, draws, share)) / draws


def at_least(share: float, draws: int, tail: float = 1e-3) -> float:
    """The smallest share of ``draws`` hits still consistent with a rate of ``share``."""
    return float(stats.binom.ppf(tail, draws, share)) / draws


# --- location: Welch's t (reported) and Mann-Whitney (pages) ----------------------------------


def moments(x: np.ndarray) -> tuple[int, float, float]:
    """(count, mean, population variance) as profiles keep them."""
    return len(x), float(np.mean(x)), float(np.var(x))


def test_welch_equals_its_closed_form_and_scipy() -> None:
    rng = np.random.default_rng(1)
    for n1, n2, shift, scale in ((30, 30, 0.3, 1.0), (500, 40, 0.2, 3.0), (2000, 5000, 0.01, 0.5)):
        x, y = rng.normal(0, 1, n1), rng.normal(shift, scale, n2)
        # t = (ȳ - x̄) / sqrt(s1²/n1 + s2²/n2), unbiased variances, Welch-Satterthwaite df
        a, b = x.var(ddof=1) / n1, y.var(ddof=1) / n2
        t = (y.mean() - x.mean()) / math.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        expected = 2 * stats.t.sf(abs(t), df)
        assert welch_test(*moments(x), *moments(y)) == pytest.approx(expected, rel=1e-9)
        assert welch_test(*moments(y), *moments(x)) == pytest.approx(expected, rel=1e-9)
        scipy_p = stats.ttest_ind(x, y, equal_var=False).pvalue
        assert welch_test(*moments(x), *moments(y)) == pytest.approx(scipy_p, rel=1e-9)


def test_welch_edge_cases() -> None:
    assert welch_test(1, 0.0, 0.0, 100, 5.0, 1.0) == 1.0  # fewer than two values: no test
    assert welch_test(100, 2.0, 0.0, 100, 2.0, 0.0) == 1.0  # two equal constants
    assert welch_test(100, 2.0, 0.0, 100, 2.5, 0.0) == 0.0  # two different constants
    assert math.isnan(welch_test(100, math.inf, 1.0, 100, 0.0, 1.0))


def _null_ps(rng: np.random.Generator, draw, test, n1: int, n2: int, draws: int) -> np.ndarray:
    """p-values of ``test`` on ``draws`` pairs of samples of one law."""
    x, y = draw(rng, (draws, n1)), draw(rng, (draws, n2))
    return np.array([test(a, b) for a, b in zip(x, y, strict=True)])


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    return welch_test(*moments(a), *moments(b))


def test_welch_is_valid_under_no_change_on_normal_data() -> None:
    rng = np.random.default_rng(3)
    draws = 2500
    normal = lambda g, size: g.normal(0, 1, size)  # noqa: E731
    for n1, n2 in ((300, 300), (1000, 30), (30, 1000)):
        ps = _null_ps(rng, normal, _welch, n1, n2, draws)
        assert (ps < 0.01).mean() <= at_most(0.01, draws), (n1, n2)
        # roughly uniform: P(p < 0.2) is near 0.2 (a two-sided check on 3 cases: tails of 1e-5)
        assert at_least(0.2, draws, 1e-5) <= (ps < 0.2).mean() <= at_most(0.2, draws, 1e-5)


def test_mann_whitney_on_values_is_scipy_mannwhitneyu() -> None:
    rng = np.random.default_rng(12)
    cases = [
        (rng.lognormal(size=300), rng.lognormal(0.2, size=80)),
        (rng.normal(size=50), rng.normal(size=40)),
        (rng.poisson(3, 500).astype(float), rng.poisson(3.4, 120).astype(float)),  # many ties
    ]
    for a, b in cases:
        expected = stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue
        assert mann_whitney_sample(a, b) == pytest.approx(expected, rel=1e-9)
    assert mann_whitney_sample(np.full(40, 2.0), np.full(30, 2.0)) == 1.0  # all tied: no evidence


def test_mann_whitney_on_bins_is_the_test_on_bin_indices() -> None:
    """Binned: each bin (and the under/overflow) is one group of tied values."""
    rng = np.random.default_rng(13)
    ref = rng.lognormal(size=2000)
    edges = np.quantile(ref, np.linspace(0, 1, 51))
    tails = 0
    for cur in (rng.lognormal(0.1, size=300), rng.lognormal(0.0, 2.0, size=300)):
        hists = [build_histogram(v, edges) for v in (ref, cur)]

        def group(v: np.ndarray) -> np.ndarray:
            idx = np.searchsorted(edges, v, side="right")  # 0 below, len(edges) above
            return np.where(v == edges[-1], len(edges) - 1, idx)  # the last bin is closed

        expected = stats.mannwhitneyu(
            group(ref), group(cur), method="asymptotic", use_continuity=False
        ).pvalue
        assert mann_whitney_counts(*hists) == pytest.approx(expected, rel=1e-9)
        tails += hists[1].under_count + hists[1].over_count
    assert tails > 0  # the under- and overflow took part
    # one distinct value per bin: the binned test is the test on the values
    a, b = rng.integers(0, 6, 400).astype(float), rng.integers(1, 7, 100).astype(float)
    edges = np.arange(-0.5, 6.0)
    assert mann_whitney_counts(build_histogram(a, edges), build_histogram(b, edges)) == (
        pytest.approx(mann_whitney_sample(a, b), rel=1e-12)
    )


@pytest.mark.parametrize(
    "law",
    [
        pytest.param(lambda g, size: g.lognormal(0, 1, size), id="lognormal"),
        pytest.param(lambda g, size: g.standard_t(2, size), id="t2"),
        pytest.param(lambda g, size: g.poisson(1.5, size).astype(float), id="poisson-ties"),
    ],
)
def test_mann_whitney_is_valid_under_no_change_at_small_windows(law) -> None:
    """Skewed, heavy-tailed and tied data; a large reference and a 30-row window."""
    draws = 3000
    ps = _null_ps(np.random.default_rng(14), law, mann_whitney_sample, 1000, 30, draws)
    assert (ps < 0.01).mean() <= at_most(0.01, draws)
    assert (ps < 0.001).mean() <= at_most(0.001, draws)
    assert (ps < 0.2).mean() >= at_least(0.2, draws, 1e-5)  # not conservative to uselessness


# --- Kolmogorov-Smirnov on samples ------------------------------------------------------------


def test_ks_two_sample_is_scipy_exact_or_asymptotic_by_size() -> None:
    rng = np.random.default_rng(15)
    for n, m in ((200, 100), (300, 300), (2000, 1500)):
        a, b = rng.normal(size=n), rng.normal(0.15, 1.2, size=m)
        method = "exact" if n * m <= 100_000 else "asymp"
        expected = stats.ks_2samp(a, b, method=method)
        d, p = ks_two_sample(a, b)
        assert d == pytest.approx(expected.statistic, rel=1e-12)
        assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300), (n, m)
    # ties: the statistic is the largest CDF gap at the observed values
    a, b = rng.integers(0, 5, 500).astype(float), rng.integers(0, 5, 400).astype(float)
    assert ks_two_sample(a, b)[0] == pytest.approx(stats.ks_2samp(a, b).statistic, rel=1e-12)
    assert all(math.isnan(v) for v in ks_two_sample(np.array([]), b))


@pytest.mark.parametrize(("en", "max_excess"), [(10_001, 0.05), (20_000, 0.03), (100_000, 0.011), (400_000, 0.005)])
def test_ks_limit_law_at_large_sizes_is_conservative_and_close_to_scipy(en: int, max_excess: float) -> None:
    # beyond KS_LIMIT_ABOVE the p-value is Kolmogorov's limit: never below scipy's
    # finite-n kstwo (so no extra false alarms) and only slightly above it (little power lost)
    for x in np.linspace(0.3, 4.2, 27):  # sqrt(n)·D from p ~ 1 down to p ~ 1e-14
        d = float(x / math.sqrt(en))
        exact = float(stats.kstwo.sf(d, en))
        p = ks_sf(d, en)
        assert exact <= p <= exact * (1 + max_excess), (en, x, exact, p)
    assert ks_sf(0.01, 10_000) == stats.kstwo.sf(0.01, 10_000)  # at and below the switch: scipy itself
    assert math.isnan(ks_sf(math.nan, 500)) and math.isnan(ks_sf(0.1, 0))


def test_ks_two_sample_is_valid_under_no_change() -> None:
    rng = np.random.default_rng(16)
    draws = 1000
    for n, m in ((400, 300), (60, 40)):  # the asymptotic law, and the exact one
        ps = _null_ps(
            rng,
            lambda g, size: g.normal(0, 1, size),
            lambda a, b: ks_two_sample(a, b)[1],
            n,
            m,
            draws,
        )
        assert (ps < 0.01).mean() <= at_most(0.01, draws), (n, m)
        assert (ps < 0.2).mean() >= at_least(0.2, draws, 1e-5) * 0.8


# --- pooled chi-square / Fisher ---------------------------------------------------------------


def test_chisquare_without_pooling_is_scipy_chi2_contingency() -> None:
    ref = {"a": 400, "b": 300, "c": 200, "d": 100}
    cur = {"a": 150, "b": 170, "c": 110, "d": 70}
    table = np.array([[ref[k], cur[k]] for k in "abcd"])
    expected = stats.chi2_contingency(table, correction=False)
    assert expected.expected_freq.min() >= 5  # nothing to pool
    stat, dof, p = chisquare_pooled(ref, cur)
    assert (stat, dof, p) == (
        pytest.approx(expected.statistic, rel=1e-12),
        expected.dof,
        pytest.approx(expected.pvalue, rel=1e-9),
    )
    assert dof == 3 and 1e-6 < p < 0.05  # a real, moderate difference


def test_two_categories_is_fisher_exact() -> None:
    ref, cur = {"yes": 120, "no": 880}, {"yes": 45, "no": 255}
    stat, dof, p = chisquare_pooled(ref, cur)
    expected = stats.fisher_exact([[120, 45], [880, 255]]).pvalue
    assert math.isnan(stat) and dof == 1
    assert p == pytest.approx(expected, rel=1e-9)
    assert chisquare_pooled({"a": 500, "b": 500}, {"a": 500, "b": 500})[1:] == (
        1,
        pytest.approx(1.0),
    )


def test_sparse_categories_are_pooled_until_every_expected_count_is_five() -> None:
    # r1..r4 are rare (pooled counts 10, 4, 3, 1); the smaller sample is 604 of 1810 rows,
    # so a row needs a pooled count of 15 for an expected count of 5 on both sides:
    # the four rare rows together (18) are enough, and a, b, c stay as they are.
    ref = {"a": 500, "b": 400, "c": 300, "r1": 6, "r2": 3, "r3": 1}
    cur = {"a": 250, "b": 200, "c": 150, "r1": 4, "r2": 1, "r3": 2, "r4": 1}
    pooled = np.array([[500, 250], [400, 200], [300, 150], [6 + 3 + 1 + 0, 4 + 1 + 2 + 1]])
    expected = stats.chi2_contingency(pooled, correction=False)
    assert expected.expected_freq.min() >= 5
    stat, dof, p = chisquare_pooled(ref, cur)
    assert (stat, dof) == (pytest.approx(expected.statistic, rel=1e-12), 3)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)
    # unpooled, the same table would be a 7-row test with expected counts below 1
    raw = stats.chi2_contingency(
        np.array([[ref.get(k, 0), cur.get(k, 0)] for k in sorted(set(ref) | set(cur))]),
        correction=False,
    )
    assert raw.dof == 6 and raw.expected_freq.min() < 1
    stat0, dof0, p0 = chisquare_pooled(ref, cur, min_expected=0)
    assert (dof0, stat0, p0) == (
        6,
        pytest.approx(raw.statistic, rel=1e-12),
        pytest.approx(raw.pvalue, rel=1e-9),
    )


def test_pooling_down_to_two_rows_uses_fisher() -> None:
    # one big category and a tail of 24 singletons (the smaller side is 112 of 424 rows, so
    # a row needs 19 to expect 5 values there): the tail is pooled into one row
    ref = {"big": 300, **{f"t{i}": 1 for i in range(12)}}
    cur = {"big": 100, **{f"u{i}": 1 for i in range(12)}}
    stat, dof, p = chisquare_pooled(ref, cur)
    assert math.isnan(stat) and dof == 1
    assert p == pytest.approx(stats.fisher_exact([[300, 100], [12, 12]]).pvalue, rel=1e-9)
    assert p < 0.05  # the window's tail is three times heavier
    # with a tail too thin to stand alone, it is pooled into the big category: no test left
    thin_ref = {"big": 300, **{f"t{i}": 1 for i in range(8)}}
    thin_cur = {"big": 100, **{f"u{i}": 1 for i in range(8)}}
    assert chisquare_pooled(thin_ref, thin_cur) == (0.0, 0, 1.0)


def test_chisquare_degenerate_tables() -> None:
    assert chisquare_pooled({}, {"a": 3}) == (0.0, 0, 1.0)
    assert chisquare_pooled({"a": 3}, {}) == (0.0, 0, 1.0)
    assert chisquare_pooled({"a": 30}, {"a": 40}) == (0.0, 0, 1.0)  # one category: no test
    # categories with no count on either side are not rows
    assert chisquare_pooled({"a": 50, "b": 20, "c": 30, "z": 0}, {"a": 40, "b": 25, "c": 35})[
        1:
    ] == (
        2,
        pytest.approx(
            chisquare_pooled({"a": 50, "b": 20, "c": 30}, {"a": 40, "b": 25, "c": 35})[2], rel=1e-12
        ),
    )


def test_pooled_chisquare_is_valid_on_sparse_tables_under_no_change() -> None:
    """A long-tailed category law (many categories with expected counts below 1)."""
    rng = np.random.default_rng(5)
    probs = 1 / np.arange(1, 61) ** 1.3
    probs /= probs.sum()
    draws, hits, below_half = 400, 0, 0
    for _ in range(draws):
        r = rng.multinomial(500, probs)
        c = rng.multinomial(80, probs)
        p = chisquare_pooled(
            {str(i): int(v) for i, v in enumerate(r) if v},
            {str(i): int(v) for i, v in enumerate(c) if v},
        )[2]
        hits += p < 0.01
        below_half += p < 0.5
    assert hits / draws <= at_most(0.01, draws)
    assert at_least(0.5, draws) * 0.8 <= below_half / draws <= at_most(0.5, draws)


# --- one-sided rate increase (Fisher) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("k_ref", "n_ref", "k_cur", "n_cur"),
    [
        (10, 1000, 30, 1000),
        (0, 500, 3, 100),
        (50, 400, 5, 200),
        (40, 400, 30, 200),
        (1, 10, 9, 10),
        (7, 300, 7, 300),
    ],
)
def test_rate_increase_is_one_sided_fisher_exact(
    k_ref: int, n_ref: int, k_cur: int, n_cur: int
) -> None:
    table = [[k_cur, n_cur - k_cur], [k_ref, n_ref - k_ref]]
    expected = stats.fisher_exact(table, alternative="greater").pvalue
    assert rate_increase_test(k_ref, n_ref, k_cur, n_cur) == pytest.approx(
        expected, rel=1e-9, abs=1e-300
    )


def test_rate_increase_edge_cases_and_direction() -> None:
    assert (
        rate_increase_test(5, 100, 0, 100)
        == 1.0
        == stats.fisher_exact([[0, 100], [5, 95]], alternative="greater").pvalue
    )
    assert rate_increase_test(5, 100, 3, 0) == 1.0
    assert rate_increase_test(0, 0, 3, 10) == 1.0
    # a *decrease* is never significant, an increase is
    assert rate_increase_test(50, 100, 10, 100) > 0.999
    assert rate_increase_test(10, 100, 50, 100) < 1e-9


def test_rate_increase_is_valid_under_no_change() -> None:
    rng = np.random.default_rng(6)
    draws = 600
    k_ref = rng.binomial(2000, 0.03, draws)
    k_cur = rng.binomial(300, 0.03, draws)
    ps = np.array(
        [rate_increase_test(int(a), 2000, int(b), 300) for a, b in zip(k_ref, k_cur, strict=True)]
    )
    assert (ps < 0.01).mean() <= at_most(0.01, draws)
    assert (ps < 0.2).mean() <= at_most(0.2, draws)  # discrete, so conservative rather than uniform
    assert (ps < 0.2).mean() >= 0.05  # but not stuck at 1


# --- values outside the reference range (beta-binomial) -------------------------------------


def _simulated_exceedances(
    rng: np.random.Generator, n_ref: int, n_cur: int, draws: int, *, discrete: bool = False
) -> np.ndarray:
    """Counts of window values outside the reference's [min, max], exchangeable data."""
    if discrete:
        ref = rng.integers(0, 8, (draws, n_ref))
        cur = rng.integers(0, 8, (draws, n_cur))
    else:
        ref = rng.standard_normal((draws, n_ref))
        cur = rng.standard_normal((draws, n_cur))
    lo, hi = ref.min(axis=1, keepdims=True), ref.max(axis=1, keepdims=True)
    return ((cur < lo) | (cur > hi)).sum(axis=1)


def test_exceedance_matches_a_monte_carlo_of_exchangeable_data() -> None:
    rng = np.random.default_rng(7)
    draws, n_ref, n_cur = 40_000, 50, 30
    counts = _simulated_exceedances(rng, n_ref, n_cur, draws)
    for k in range(1, 7):
        simulated = (counts >= k).mean()
        se = math.sqrt(simulated * (1 - simulated) / draws)
        assert exceedance_test(k, n_cur, n_ref) == pytest.approx(simulated, abs=4 * se + 1e-4), k
    assert exceedance_test(0, n_cur, n_ref) == 1.0


def test_exceedance_is_valid_and_conservative_for_ties() -> None:
    rng = np.random.default_rng(8)
    draws = 20_000
    for discrete in (False, True):
        counts = _simulated_exceedances(rng, 200, 100, draws, discrete=discrete)
        table = np.array([exceedance_test(k, 100, 200) for k in range(101)])
        ps = table[counts]
        assert (ps < 0.01).mean() <= at_most(0.01, draws), discrete
    assert (ps < 0.5).mean() < 0.05  # integer data rarely leave the range: conservative


def test_exceedance_edge_cases() -> None:
    assert exceedance_test(3, 0, 100) == 1.0
    assert exceedance_test(3, 100, 1) == 1.0  # one reference value has no range
    assert round(exceedance_test(0, 100, 1000), 3) == 1.0
    # more values outside is stronger evidence
    assert (
        exceedance_test(10, 100, 1000)
        < exceedance_test(3, 100, 1000)
        < exceedance_test(1, 100, 1000)
    )


# --- Holm and Benjamini-Hochberg levels -------------------------------------------------------


def holm_by_hand(ps: list[float], alpha: float) -> set[int]:
    """Indices Holm's step-down rejects: sort, compare p_(i) with alpha/(m-i), stop at the first failure."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    rejected: set[int] = set()
    for rank, i in enumerate(order):
        if ps[i] < alpha / (len(ps) - rank):
            rejected.add(i)
        else:
            break
    return rejected


def test_holm_levels_by_hand() -> None:
    assert holm_levels([0.001, 0.04, 0.02], 0.05) == [0.05 / 3, 0.05, 0.05 / 2]
    # the second smallest fails at alpha/2: it and every larger p are judged at alpha/2
    assert holm_levels([0.001, 0.03, 0.02, 0.9], 0.05) == [0.05 / 4, 0.05 / 3, 0.05 / 3, 0.05 / 3]
    assert holm_levels([None, 0.001, math.nan], 0.01) == [None, 0.01, None]
    assert holm_levels([], 0.01) == []
    rng = np.random.default_rng(9)
    for _ in range(300):
        m = int(rng.integers(1, 12))
        ps = np.where(rng.random(m) < 0.4, rng.random(m) * 0.01, rng.random(m)).tolist()
        levels = holm_levels(ps, 0.05)
        rejected = {
            i for i, (p, lv) in enumerate(zip(ps, levels, strict=True)) if lv is not None and p < lv
        }
        assert rejected == holm_by_hand(ps, 0.05), ps
        assert all(lv is not None and 0.05 / m <= lv <= 0.05 for lv in levels)


def test_holm_controls_the_family_wise_error() -> None:
    rng = np.random.default_rng(10)
    draws = 2000
    ps = rng.random((draws, 8))  # eight true nulls
    any_rejected = np.array(
        [
            any(p < lv for p, lv in zip(row, holm_levels(row.tolist(), 0.05), strict=True))
            for row in ps
        ]
    )
    # at most alpha, and (independent nulls) about Bonferroni's 1 - (1 - alpha/8)**8, not far below
    assert at_least(1 - (1 - 0.05 / 8) ** 8, draws) <= any_rejected.mean() <= at_most(0.05, draws)


def test_bh_levels_reject_what_scipy_false_discovery_control_rejects() -> None:
    assert [round(x, 6) for x in bh_levels([0.01, 0.04, 0.03], 0.05)] == [0.05, 0.05, 0.05]  # type: ignore[arg-type]
    rng = np.random.default_rng(11)
    for _ in range(300):
        m = int(rng.integers(1, 12))
        ps = np.where(rng.random(m) < 0.5, rng.random(m) * 0.02, rng.random(m))
        levels = bh_levels(ps.tolist(), 0.05)
        adjusted = stats.false_discovery_control(ps, method="bh")
        assert [p < lv for p, lv in zip(ps, levels, strict=True)] == (adjusted < 0.05).tolist(), (
            ps.tolist()
        )
    assert bh_levels([None, 0.2], 0.05) == [None, 0.05]


# --- total variation ---------------------------------------------------------------------------


def test_total_variation_is_half_the_l1_distance_of_the_shares() -> None:
    ref, cur = {"a": 50, "b": 30, "c": 20}, {"a": 10, "b": 30, "d": 60}
    expected = 0.5 * (abs(0.5 - 10 / 100) + abs(0.3 - 0.3) + abs(0.2 - 0) + abs(0 - 0.6))
    assert total_variation(ref, cur) == pytest.approx(expected, abs=1e-15)
    assert total_variation({"a": 50, "b": 50}, {"a": 55, "b": 45}) == 0.05
    assert total_variation(ref, ref) == 0.0
    assert math.isnan(total_variation({}, cur))
