"""Property tests of the binned CDF metrics on random data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from monitor.metrics import Histogram, ks_binned, wasserstein_binned, wasserstein_distance_binned
from tests.monitor.histograms import build_histogram

values = st.lists(
    st.floats(-100, 100, allow_nan=False, allow_subnormal=False), min_size=1, max_size=60
).map(np.array)
settings.register_profile("metrics", max_examples=150, deadline=None, derandomize=True)


def edges_from(reference: np.ndarray, n_bins: int) -> np.ndarray:
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, n_bins + 1)))
    return edges if edges.size >= 2 else np.array([edges[0], edges[0] + 1.0])


def uniform_expansion(hist: Histogram, points_per_bin: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Points and weights spreading each bin's count evenly; each tail as a point at its mean."""
    offsets = (np.arange(points_per_bin) + 0.5) / points_per_bin
    points = [
        hist.edges[i] + offsets * (hist.edges[i + 1] - hist.edges[i]) for i in range(hist.n_bins)
    ]
    weights = [np.full(points_per_bin, c / points_per_bin) for c in hist.counts]
    for count, total in ((hist.under_count, hist.under_sum), (hist.over_count, hist.over_sum)):
        if count:
            points.append(np.array([total / count]))
            weights.append(np.array([float(count)]))
    return np.concatenate(points), np.concatenate(weights)


@settings(settings.get_profile("metrics"))
@given(ref=values, cur=values, n_bins=st.integers(1, 12))
def test_wasserstein_binned_is_symmetric_up_to_normalisation_and_non_negative(
    ref: np.ndarray, cur: np.ndarray, n_bins: int
) -> None:
    edges = edges_from(ref, n_bins)
    a, b = build_histogram(ref, edges), build_histogram(cur, edges)
    std_a, std_b = float(np.std(ref)) + 1.0, float(np.std(cur)) + 2.0
    ab = wasserstein_binned(a, b, ref_std=std_a).statistic
    ba = wasserstein_binned(b, a, ref_std=std_b).statistic
    assert ab >= 0 and ba >= 0
    assert ab * std_a == pytest.approx(ba * std_b, rel=1e-12, abs=1e-12)


# scipy's asymptotic p-value divides by a rounded effective n of 0 for 1-vs-1 samples;
# only the statistic (the same for every method) is used here.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@settings(settings.get_profile("metrics"))
@given(ref=values, cur=values, n_bins=st.integers(1, 12))
def test_ks_binned_is_within_one_bin_share_below_the_exact_statistic(
    ref: np.ndarray, cur: np.ndarray, n_bins: int
) -> None:
    edges = edges_from(ref, n_bins)
    a, b = build_histogram(ref, edges), build_histogram(cur, edges)
    exact = stats.ks_2samp(ref, cur, method="asymp").statistic
    binned = ks_binned(a, b).statistic
    largest_share = max(max(h.counts.max(), h.under_count, h.over_count) / h.total for h in (a, b))
    assert binned <= exact + 1e-12
    assert exact <= binned + largest_share + 1e-12


@settings(settings.get_profile("metrics"))
@given(
    ref_counts=st.lists(st.integers(0, 20), min_size=1, max_size=8),
    data=st.data(),
)
def test_wasserstein_binned_is_exact_for_uniform_bins(ref_counts: list[int], data) -> None:
    n = len(ref_counts)
    cur_counts = data.draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    widths = data.draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n))
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    # At most one side has mass in each tail, where the tail term is exact.
    under = data.draw(st.integers(0, 5)), data.draw(st.floats(0.1, 50))
    over = data.draw(st.integers(0, 5)), data.draw(st.floats(0.1, 50))
    a = Histogram(edges, np.array(ref_counts), under[0], under[0] * (edges[0] - under[1]))
    b = Histogram(edges, np.array(cur_counts), 0, 0.0, over[0], over[0] * (edges[-1] + over[1]))
    if a.total == 0 or b.total == 0:
        return
    (a_points, a_weights), (b_points, b_weights) = uniform_expansion(a), uniform_expansion(b)
    expected = stats.wasserstein_distance(a_points, b_points, a_weights, b_weights)
    # Discretising each bin into 4000 points moves its mass by at most width / 8000 <= 0.00125.
    assert wasserstein_distance_binned(a, b) == pytest.approx(expected, abs=2e-3)
