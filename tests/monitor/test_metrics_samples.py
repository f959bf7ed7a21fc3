"""Exact tests on raw samples, and the Benjamini-Hochberg correction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitor.metrics import (
    anderson_darling_sample,
    benjamini_hochberg,
    ks_sample,
    wasserstein_sample,
)


@pytest.fixture(scope="module")
def samples() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    return {
        "ref": rng.normal(5, 2, 3000),
        "same": rng.normal(5, 2, 800),
        "shifted": rng.normal(5.6, 2, 800),  # 0.3 sd
    }


@pytest.mark.parametrize("current", ["same", "shifted"])
def test_ks_sample_is_ks_2samp(samples, current: str) -> None:
    ref, cur = samples["ref"], samples[current]
    expected = stats.ks_2samp(ref, cur)
    result = ks_sample(ref, cur)
    assert (result.metric, result.statistic, result.p_value) == (
        "ks", expected.statistic, expected.pvalue,
    )  # fmt: skip
    assert (result.p_value < 0.05) == (current == "shifted")


@pytest.mark.parametrize("current", ["same", "shifted"])
def test_wasserstein_sample_is_evidently_normalised(samples, current: str) -> None:
    ref, cur = samples["ref"], samples[current]
    # W1 of two empirical distributions: integral of |F - G| over the pooled sorted values.
    grid = np.sort(np.concatenate([ref, cur]))
    f = np.searchsorted(np.sort(ref), grid[:-1], side="right") / ref.size
    g = np.searchsorted(np.sort(cur), grid[:-1], side="right") / cur.size
    expected = np.sum(np.abs(f - g) * np.diff(grid)) / np.std(ref)
    result = wasserstein_sample(ref, cur)
    assert result.statistic == pytest.approx(expected, rel=1e-9)
    assert result.statistic == pytest.approx(
        stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-12
    )
    assert (result.score >= 0.1) == (current == "shifted")


def test_wasserstein_sample_constant_reference() -> None:
    assert wasserstein_sample([3.0, 3.0], [3.0]).statistic == 0.0
    assert wasserstein_sample([3.0, 3.0], [3.0, 4.0]).statistic == np.inf


@pytest.mark.parametrize("current", ["same", "shifted"])
def test_anderson_is_anderson_ksamp(samples, current: str) -> None:
    ref, cur = samples["ref"], samples[current]
    with pytest.warns(UserWarning, match="p-value"):
        expected = stats.anderson_ksamp([ref, cur])
    result = anderson_darling_sample(ref, cur)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_anderson_p_value_is_capped_by_scipy() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=500)
    assert anderson_darling_sample(ref, ref).p_value == 0.25
    assert anderson_darling_sample(ref, ref + 100).p_value == 0.001
    constant = anderson_darling_sample([2.0, 2.0], [2.0])
    assert (constant.statistic, constant.p_value) == (0.0, 0.25)


@pytest.mark.parametrize("function", [ks_sample, wasserstein_sample, anderson_darling_sample])
def test_sample_input_errors(function) -> None:
    with pytest.raises(ValueError, match="The cur sample is empty"):
        function([1.0, 2.0], [])
    with pytest.raises(ValueError, match="The ref sample holds NaN or inf; drop missing values"):
        function([1.0, np.nan], [1.0])
    with pytest.raises(ValueError, match=r"The cur sample must be 1-D; got shape \(1, 2\)"):
        function([1.0], [[1.0, 2.0]])


def _bh_by_hand(p: list[float]) -> np.ndarray:
    """Step-up BH: p_(i) * m / i, then a running minimum from the largest p down."""
    m = len(p)
    order = np.argsort(p)
    scaled = np.array(p)[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted


def test_benjamini_hochberg_matches_the_step_up_procedure() -> None:
    p = np.random.default_rng(9).uniform(0, 0.2, 25).tolist()
    np.testing.assert_allclose(benjamini_hochberg(p), _bh_by_hand(p), rtol=1e-12)
    assert benjamini_hochberg([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.04, 0.04])


def test_benjamini_hochberg_passes_missing_values_through() -> None:
    adjusted = benjamini_hochberg([0.01, None, 0.04, float("nan"), 0.03])
    assert np.isnan(adjusted[[1, 3]]).all()
    assert adjusted[[0, 2, 4]].tolist() == pytest.approx([0.03, 0.04, 0.04])
    assert benjamini_hochberg([]).shape == (0,)
    assert np.isnan(benjamini_hochberg([None])).all()


def test_benjamini_hochberg_rejects_values_outside_0_1() -> None:
    with pytest.raises(ValueError, match=r"p-values must lie in \[0, 1\].*\[1\.5\]"):
        benjamini_hochberg([0.2, 1.5])
