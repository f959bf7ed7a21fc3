"""Binned KS and Wasserstein against scipy's exact values on the raw rows, and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitor.metrics import (
    Histogram,
    ks_binned,
    wasserstein_binned,
    wasserstein_distance_binned,
)
from tests.monitor.histograms import build_histogram


def quantile_edges(reference: np.ndarray, n_bins: int = 1000) -> np.ndarray:
    return np.quantile(reference, np.linspace(0, 1, n_bins + 1))


def max_bin_share(*hists: Histogram) -> float:
    """Largest share of one bin or one tail on either side."""
    return max(max(h.counts.max(), h.under_count, h.over_count) / h.total for h in hists)


# (reference rows, current rows, shift in reference standard deviations, seed)
CASES = {
    "large_shifted_0.3sd": (200_000, 200_000, 0.3, 1),
    "large_unshifted": (200_000, 200_000, 0.0, 2),
    "small_window_shift_0.05sd": (200_000, 5_000, 0.05, 3),
    "small_reference_shift_0.1sd": (5_000, 1_000, 0.1, 4),
}


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def normal_case(request: pytest.FixtureRequest):
    n_ref, n_cur, shift, seed = CASES[request.param]
    rng = np.random.default_rng(seed)
    ref = rng.normal(10.0, 2.0, n_ref)
    cur = rng.normal(10.0 + 2.0 * shift, 2.0, n_cur)
    edges = quantile_edges(ref)
    return ref, cur, build_histogram(ref, edges), build_histogram(cur, edges)


def test_ks_binned_statistic_agrees_with_ks_2samp(normal_case) -> None:
    ref, cur, ref_hist, cur_hist = normal_case
    exact = stats.ks_2samp(ref, cur)
    binned = ks_binned(ref_hist, cur_hist)
    assert binned.metric == "ks"
    # Pinned tolerance 0.002 (measured: <= 0.001); the proven bounds are tighter.
    assert binned.statistic == pytest.approx(exact.statistic, abs=0.002)
    assert binned.statistic <= exact.statistic + 1e-12
    assert exact.statistic <= binned.statistic + max_bin_share(ref_hist, cur_hist) + 1e-12


def test_ks_binned_p_value_in_the_same_regime_as_ks_2samp(normal_case) -> None:
    ref, cur, ref_hist, cur_hist = normal_case
    exact = stats.ks_2samp(ref, cur, method="asymp")
    binned = ks_binned(ref_hist, cur_hist)
    assert (binned.p_value < 0.05) == (exact.pvalue < 0.05)
    # Same distribution (kstwo, same effective n), statistic never larger -> p never smaller.
    assert binned.p_value >= exact.pvalue
    assert binned.p_value == pytest.approx(exact.pvalue, rel=0.25, abs=1e-12)


def test_ks_binned_known_values() -> None:
    # F_ref at the edges 0, .5, 1 and F_cur 0, .8, 1; effective n = 100 * 100 / 200 = 50.
    edges = np.array([0.0, 1.0, 2.0])
    result = ks_binned(Histogram(edges, np.array([50, 50])), Histogram(edges, np.array([80, 20])))
    assert result.statistic == pytest.approx(0.3, abs=1e-12)
    assert result.p_value == pytest.approx(stats.kstwo.sf(0.3, 50), rel=1e-12)


def test_normalized_wasserstein_agrees_with_scipy(normal_case) -> None:
    ref, cur, ref_hist, cur_hist = normal_case
    exact = stats.wasserstein_distance(ref, cur) / np.std(ref)
    binned = wasserstein_binned(ref_hist, cur_hist, ref_std=float(np.std(ref)))
    assert binned.metric == "wasserstein" and binned.p_value is None
    # Pinned tolerance 0.002 absolute (measured: <= 0.0007 in these cases).
    assert binned.statistic == pytest.approx(exact, abs=0.002)


def test_wasserstein_shifted_case_measures_the_shift() -> None:
    rng = np.random.default_rng(7)
    ref, cur = rng.normal(0, 1, 200_000), rng.normal(0.3, 1, 200_000)
    edges = quantile_edges(ref)
    result = wasserstein_binned(
        build_histogram(ref, edges), build_histogram(cur, edges), ref_std=float(np.std(ref))
    )
    assert result.statistic == pytest.approx(0.3, abs=0.01)
    assert result.score >= 0.1  # drift at the DESIGN threshold


def test_wasserstein_is_exact_for_uniform_bins_with_a_crossing() -> None:
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    # ref: U[0,1] and U[2,3] half each; cur: U[1,2]. F - G goes 0, .5, -.5, 0:
    # areas .25 + crossing (.25 + .25) / (2 * 1) + .25 = .75
    ref, cur = Histogram(edges, np.array([1, 0, 1])), Histogram(edges, np.array([0, 2, 0]))
    assert wasserstein_distance_binned(ref, cur) == pytest.approx(0.75, abs=1e-15)
    assert wasserstein_binned(ref, cur, ref_std=0.5).statistic == pytest.approx(1.5, abs=1e-15)


def test_identical_histograms_give_zero_and_p_one() -> None:
    edges = np.linspace(0, 1, 11)
    hist = Histogram(edges, np.arange(10), 3, -6.0, 2, 5.0)
    assert wasserstein_binned(hist, hist, ref_std=1.0).statistic == 0.0
    result = ks_binned(hist, hist)
    assert result.statistic == 0.0 and result.p_value == 1.0


def test_disjoint_supports() -> None:
    rng = np.random.default_rng(11)
    ref, cur = rng.uniform(0, 1, 5000), rng.uniform(5, 6, 5000)
    edges = quantile_edges(ref, 100)  # cur lies entirely in the overflow
    ref_hist, cur_hist = build_histogram(ref, edges), build_histogram(cur, edges)
    assert ks_binned(ref_hist, cur_hist).statistic == 1.0
    assert ks_binned(ref_hist, cur_hist).p_value == pytest.approx(0.0, abs=1e-300)
    assert wasserstein_distance_binned(ref_hist, cur_hist) == pytest.approx(
        stats.wasserstein_distance(ref, cur), abs=1e-3
    )
    # A gap inside one wide bin is smeared by the uniform-within-bin assumption.
    pooled_edges = quantile_edges(np.concatenate([ref, cur]), 100)
    smeared = wasserstein_distance_binned(
        build_histogram(ref, pooled_edges), build_histogram(cur, pooled_edges)
    )
    assert smeared == pytest.approx(stats.wasserstein_distance(ref, cur), abs=0.05)


def test_all_mass_in_the_tails_is_exact() -> None:
    # ref entirely below the edges, cur entirely above: W1 = mean(cur) - mean(ref).
    edges = np.array([0.0, 1.0])
    ref_values, cur_values = np.array([-3.0, -1.0, -2.0]), np.array([4.0, 2.0])
    ref, cur = build_histogram(ref_values, edges), build_histogram(cur_values, edges)
    exact = stats.wasserstein_distance(ref_values, cur_values)
    assert exact == pytest.approx(5.0)
    assert wasserstein_distance_binned(ref, cur) == pytest.approx(exact, abs=1e-12)
    assert ks_binned(ref, cur).statistic == 1.0


def test_one_sided_tail_is_exact() -> None:
    edges = np.array([0.0, 1.0, 2.0])
    ref = Histogram(edges, np.array([2, 2]))
    cur = build_histogram(np.array([0.5, 1.5, 7.0, 9.0]), edges)
    # F - G at the edges: 0, .25, .5 -> areas .125 + .375; above 2: E_cur[(X-2)+] = 12 / 4.
    assert wasserstein_distance_binned(ref, cur) == pytest.approx(3.5, abs=1e-12)


def test_zero_std_reference_gives_zero_or_inf() -> None:
    edges = np.array([4.0, 5.0, 6.0])
    ref = Histogram(edges, np.array([10, 0]))
    same = wasserstein_binned(ref, Histogram(edges, np.array([3, 0])), ref_std=0.0)
    moved = wasserstein_binned(ref, Histogram(edges, np.array([3, 1])), ref_std=0.0)
    assert same.statistic == 0.0
    assert moved.statistic == np.inf and moved.score == np.inf


@pytest.mark.parametrize("ref_std", [-1.0, float("nan"), float("inf")])
def test_invalid_ref_std_is_rejected(ref_std: float) -> None:
    hist = Histogram(np.array([0.0, 1.0]), np.array([1]))
    with pytest.raises(ValueError, match="ref_std must be finite and >= 0"):
        wasserstein_binned(hist, hist, ref_std=ref_std)


@pytest.mark.parametrize("side", ["ref", "cur"])
def test_empty_histogram_is_a_clear_error(side: str) -> None:
    edges = np.array([0.0, 1.0, 2.0])
    full, empty = Histogram(edges, np.array([1, 2])), Histogram(edges, np.array([0, 0]))
    pair = (empty, full) if side == "ref" else (full, empty)
    with pytest.raises(ValueError, match=f"The {side} histogram is empty"):
        ks_binned(*pair)
    with pytest.raises(ValueError, match=f"The {side} histogram is empty"):
        wasserstein_binned(*pair, ref_std=1.0)


def test_different_edges_are_a_clear_error() -> None:
    ref = Histogram(np.array([0.0, 1.0, 2.0]), np.array([1, 2]))
    cur = Histogram(np.array([0.0, 1.5, 2.0]), np.array([1, 2]))
    with pytest.raises(ValueError, match=r"different bin edges .*baseline's edges"):
        ks_binned(ref, cur)
    other = Histogram(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"different bin edges \(2 and 3 bins\)"):
        wasserstein_binned(ref, other, ref_std=1.0)


@pytest.mark.parametrize(
    ("edges", "counts", "extra", "message"),
    [
        ([0.0], [], {}, "at least 2 values"),
        ([0.0, 0.0], [1], {}, "strictly increasing"),
        ([0.0, np.nan], [1], {}, "finite"),
        ([0.0, 1.0], [1, 2], {}, r"shape \(1,\)"),
        ([0.0, 1.0], [-1], {}, ">= 0"),
        ([0.0, 1.0], [1.5], {}, "whole numbers"),
        ([0.0, 1.0], [1], {"under_sum": -2.0}, "under_sum must be 0"),
        ([0.0, 1.0], [1], {"over_count": -1}, "over_count must be an integer >= 0"),
        ([0.0, 1.0], [1], {"over_count": 1, "over_sum": np.inf}, "over_sum must be finite"),
    ],
)
def test_histogram_validation(edges, counts, extra, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Histogram(np.array(edges), np.array(counts), **extra)


def test_histogram_is_an_immutable_copy() -> None:
    edges, counts = np.array([0.0, 1.0, 2.0]), np.array([3, 4])
    hist = Histogram(edges, counts, under_count=1, under_sum=-1.0)
    counts[0] = 100
    assert hist.counts.tolist() == [3, 4] and hist.total == 8
    assert hist.edges.dtype == np.float64 and hist.counts.dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        hist.counts[0] = 1
    assert hist.cdf_at_edges().tolist() == pytest.approx([1 / 8, 4 / 8, 1.0])


@pytest.mark.parametrize("shift, scale", [(0.0, 1.0), (0.3, 1.0), (1.5, 1.0), (0.0, 2.0), (0.7, 0.5)])
def test_wasserstein_with_bin_sums_matches_scipy_closely(shift: float, scale: float) -> None:
    # Per-bin sums make each bin exact unless the CDFs cross inside it, so the binned
    # value tracks scipy's exact W1 far more tightly than the uniform-in-bin model,
    # also when the window's mass piles up in the baseline's wide outer bins.
    rng = np.random.default_rng(11)
    ref = rng.normal(size=200_000)
    cur = rng.normal(shift, scale, size=100_000)
    edges = np.unique(np.quantile(rng.choice(ref, 10_000, replace=False), np.linspace(0, 1, 1001)))
    edges[0], edges[-1] = ref.min(), ref.max()
    binned = wasserstein_binned(build_histogram(ref, edges, with_sums=True), build_histogram(cur, edges, with_sums=True), ref_std=float(np.std(ref)))
    exact = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert binned.statistic == pytest.approx(exact, abs=2e-4)
