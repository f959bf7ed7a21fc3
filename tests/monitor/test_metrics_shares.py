"""PSI, Jensen-Shannon, Hellinger and L-infinity on binned and sampled numeric columns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from monitor.metrics import (
    PSI_EMPTY_SHARE,
    Histogram,
    distance_from_counts,
    group_by_reference_mass,
    hellinger_binned,
    hellinger_sample,
    jensenshannon_binned,
    jensenshannon_sample,
    l_infinity_binned,
    l_infinity_sample,
    psi_binned,
    psi_sample,
    reference_quantile_counts,
)
from tests.monitor.histograms import build_histogram


def decile_shares(ref: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Shares of ``values`` in the reference deciles, out-of-range values in the outer bins."""
    edges = np.quantile(ref, np.linspace(0, 1, 11))
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return counts / counts.sum()


def psi_closed_form(p: np.ndarray, q: np.ndarray) -> float:
    p, q = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)  # the documented empty share
    return float(sum((pi - qi) * np.log(pi / qi) for pi, qi in zip(p, q, strict=True)))


def hellinger_closed_form(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sqrt(max(1 - np.sum(np.sqrt(p * q)), 0.0)))


@pytest.fixture(scope="module", params=[0.0, 0.3], ids=["unshifted", "shifted_0.3sd"])
def normal_rows(request: pytest.FixtureRequest):
    rng = np.random.default_rng(21)
    ref = rng.normal(0, 1, 200_000)
    cur = rng.normal(request.param, 1, 50_000)
    edges = np.quantile(ref, np.linspace(0, 1, 1001))
    return ref, cur, build_histogram(ref, edges), build_histogram(cur, edges)


def test_groups_are_the_reference_deciles(normal_rows) -> None:
    ref, _, ref_hist, cur_hist = normal_rows
    edges, ref_counts, cur_counts = group_by_reference_mass(ref_hist, cur_hist)
    np.testing.assert_allclose(edges, np.quantile(ref, np.linspace(0, 1, 11)), rtol=1e-12)
    assert ref_counts.tolist() == [20_000] * 10
    assert cur_counts.sum() == cur_hist.total


def test_binned_distances_equal_the_decile_computation_on_raw_rows(normal_rows) -> None:
    ref, cur, ref_hist, cur_hist = normal_rows
    p, q = decile_shares(ref, ref), decile_shares(ref, cur)
    assert jensenshannon_binned(ref_hist, cur_hist).statistic == pytest.approx(
        jensenshannon(p, q), abs=1e-12
    )
    assert hellinger_binned(ref_hist, cur_hist).statistic == pytest.approx(
        hellinger_closed_form(p, q), abs=1e-9
    )
    assert psi_binned(ref_hist, cur_hist).statistic == pytest.approx(
        psi_closed_form(p, q), abs=1e-12
    )
    assert l_infinity_binned(ref_hist, cur_hist).statistic == pytest.approx(
        np.max(np.abs(p - q)), abs=1e-12
    )


def test_sample_distances_equal_the_decile_computation(normal_rows) -> None:
    ref, cur, ref_hist, cur_hist = normal_rows
    p, q = decile_shares(ref, ref), decile_shares(ref, cur)
    assert jensenshannon_sample(ref, cur).statistic == pytest.approx(jensenshannon(p, q), abs=1e-12)
    assert hellinger_sample(ref, cur).statistic == pytest.approx(
        hellinger_closed_form(p, q), abs=1e-9
    )
    assert psi_sample(ref, cur).statistic == pytest.approx(psi_closed_form(p, q), abs=1e-12)
    assert l_infinity_sample(ref, cur).statistic == pytest.approx(np.max(np.abs(p - q)), abs=1e-12)
    # Binned on 1000 quantile bins and sampled on deciles give the same bins, so the same value.
    assert psi_binned(ref_hist, cur_hist).statistic == pytest.approx(
        psi_sample(ref, cur).statistic, rel=1e-12
    )


def test_known_values_for_a_0_3sd_shift() -> None:
    # Population values for N(0.3, 1) against N(0, 1) deciles, from the normal CDF.
    from scipy.stats import norm

    cuts = norm.ppf(np.linspace(0, 1, 11))
    q = np.diff(norm.cdf(cuts, loc=0.3))
    p = np.full(10, 0.1)
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(0, 1, 400_000), rng.normal(0.3, 1, 400_000)
    assert psi_sample(ref, cur).statistic == pytest.approx(psi_closed_form(p, q), abs=0.005)
    assert jensenshannon_sample(ref, cur).statistic == pytest.approx(jensenshannon(p, q), abs=0.005)


def test_identical_distributions_give_zero() -> None:
    hist = Histogram(np.linspace(0, 1, 21), np.arange(20), 4, -8.0, 1, 3.0)
    for function in (psi_binned, jensenshannon_binned, hellinger_binned, l_infinity_binned):
        assert function(hist, hist).statistic == pytest.approx(0.0, abs=1e-12)


def test_tails_go_to_the_outer_groups() -> None:
    edges = np.arange(11.0)
    ref = Histogram(edges, np.full(10, 10))
    cur = Histogram(edges, np.zeros(10, dtype=int), 7, -70.0, 3, 36.0)
    _, ref_counts, cur_counts = group_by_reference_mass(ref, cur, n_bins=5)
    assert ref_counts.tolist() == [20] * 5
    assert cur_counts.tolist() == [7, 0, 0, 0, 3]
    # psi with the documented empty share: (.2 - .7) ln(.2/.7) + 3 (.2 - 1e-4) ln(.2/1e-4) + ...
    p, q = np.full(5, 0.2), np.array([0.7, 0, 0, 0, 0.3])
    assert psi_binned(ref, cur, n_bins=5).statistic == pytest.approx(
        psi_closed_form(p, q), rel=1e-12
    )
    assert l_infinity_binned(ref, cur, n_bins=5).statistic == pytest.approx(0.5)


def test_disjoint_supports_fall_into_the_last_reference_group() -> None:
    # Fine bins without reference mass join a neighbouring group, so a current
    # column moved off the reference support lands in the outer group, which
    # still holds 1/n_bins of the reference: shares p = (.5, .5), q = (0, 1).
    edges = np.arange(5.0)
    ref, cur = Histogram(edges, np.array([5, 5, 0, 0])), Histogram(edges, np.array([0, 0, 5, 5]))
    p, q = np.array([0.5, 0.5]), np.array([0.0, 1.0])
    assert jensenshannon_binned(ref, cur, n_bins=2).statistic == pytest.approx(jensenshannon(p, q))
    assert hellinger_binned(ref, cur, n_bins=2).statistic == pytest.approx(
        np.sqrt(1 - np.sqrt(0.5))
    )
    assert l_infinity_binned(ref, cur, n_bins=2).statistic == pytest.approx(0.5)
    expected_psi = (0.5 - PSI_EMPTY_SHARE) * np.log(0.5 / PSI_EMPTY_SHARE) + (0.5 - 1) * np.log(0.5)
    assert psi_binned(ref, cur, n_bins=2).statistic == pytest.approx(expected_psi)


def test_fewer_fine_bins_than_groups() -> None:
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    ref, cur = Histogram(edges, np.array([1, 2, 3])), Histogram(edges, np.array([3, 2, 1]))
    coarse_edges, ref_counts, _ = group_by_reference_mass(ref, cur, n_bins=10)
    assert coarse_edges.tolist() == [0.0, 1.0, 2.0, 3.0] and ref_counts.tolist() == [1, 2, 3]
    single = Histogram(np.array([0.0, 1.0]), np.array([4]))
    assert psi_binned(single, Histogram(np.array([0.0, 1.0]), np.array([9]))).statistic == 0.0


def test_lumpy_reference_gives_fewer_groups() -> None:
    edges = np.arange(6.0)
    ref = Histogram(edges, np.array([0, 90, 5, 5, 0]))
    coarse_edges, ref_counts, _ = group_by_reference_mass(ref, ref, n_bins=10)
    assert ref_counts.sum() == 100 and ref_counts.size < 10
    assert coarse_edges[0] == 0.0 and coarse_edges[-1] == 5.0


@pytest.mark.parametrize("n_bins", [1, 0, 2.5, True])
def test_invalid_n_bins_is_rejected(n_bins) -> None:
    hist = Histogram(np.arange(4.0), np.array([1, 1, 1]))
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2"):
        psi_binned(hist, hist, n_bins=n_bins)
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2"):
        psi_sample([1.0, 2.0], [1.0], n_bins=n_bins)


def test_empty_side_is_a_clear_error() -> None:
    edges = np.arange(3.0)
    full, empty = Histogram(edges, np.array([1, 1])), Histogram(edges, np.array([0, 0]))
    with pytest.raises(ValueError, match="The cur histogram is empty"):
        jensenshannon_binned(full, empty)
    with pytest.raises(ValueError, match="The ref sample is empty"):
        hellinger_sample([], [1.0])
    with pytest.raises(ValueError, match="The cur distribution is empty"):
        distance_from_counts("psi", [1, 2], [0, 0])


def test_reference_quantile_counts_with_ties() -> None:
    ref = np.array([1.0] * 50 + [2.0] * 50)
    ref_counts, cur_counts = reference_quantile_counts(ref, np.array([0.0, 1.0, 2.0, 3.0]))
    assert ref_counts.sum() == 100 and cur_counts.sum() == 4
    assert ref_counts.size == cur_counts.size < 10
