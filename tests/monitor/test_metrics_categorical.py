"""Categorical and binary metrics against scipy, statsmodels and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

from monitor.metrics import (
    align_categories,
    chisquare_categorical,
    hellinger_categorical,
    jensenshannon_categorical,
    l_infinity_categorical,
    psi_categorical,
    ztest_proportions,
)

# "d" is unseen in the reference, "c" in the current window.
REF = {"a": 500, "b": 300, "c": 200}
CUR = {"b": 350, "a": 400, "d": 50}
# The same counts aligned by hand on a, b, c, d.
P = np.array([500, 300, 200, 0]) / 1000
Q = np.array([400, 350, 0, 50]) / 800


def test_alignment_is_the_sorted_union_with_zeros() -> None:
    categories, ref, cur = align_categories(REF, CUR)
    assert categories == ["a", "b", "c", "d"]
    assert ref.tolist() == [500, 300, 200, 0] and cur.tolist() == [400, 350, 0, 50]
    assert align_categories({2: 1, "x": 1}, {1.5: 3})[0] == [1.5, 2, "x"]


def test_jensenshannon_equals_scipy() -> None:
    result = jensenshannon_categorical(REF, CUR)
    assert result.statistic == pytest.approx(jensenshannon(P, Q), abs=1e-12)
    m = (P + Q) / 2
    kl = [sum(x * np.log(x / y) for x, y in zip(d, m, strict=True) if x > 0) for d in (P, Q)]
    assert result.statistic == pytest.approx(np.sqrt((kl[0] + kl[1]) / 2), abs=1e-12)
    assert result.statistic == pytest.approx(0.312125, abs=1e-6)  # pinned regression value
    assert result.p_value is None and result.score == result.statistic


def test_hellinger_equals_the_bhattacharyya_form() -> None:
    expected = np.sqrt(1 - np.sum(np.sqrt(P * Q)))
    assert hellinger_categorical(REF, CUR).statistic == pytest.approx(expected, abs=1e-12)


def test_psi_with_the_documented_empty_share() -> None:
    p, q = np.where(P == 0, 1e-4, P), np.where(Q == 0, 1e-4, Q)
    expected = sum((pi - qi) * np.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    assert psi_categorical(REF, CUR).statistic == pytest.approx(expected, abs=1e-12)


def test_l_infinity_is_the_largest_share_difference() -> None:
    assert l_infinity_categorical(REF, CUR).statistic == pytest.approx(0.2, abs=1e-12)  # "c"


@pytest.mark.parametrize("correction", [True, False])
def test_chisquare_equals_chi2_contingency(correction: bool) -> None:
    table = np.array([[500, 300, 200, 0], [400, 350, 0, 50]])
    expected = chi2_contingency(table, correction=correction)
    result = chisquare_categorical(REF, CUR, correction=correction)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert result.score == result.p_value


def test_chisquare_drops_categories_empty_on_both_sides() -> None:
    with_zero = chisquare_categorical({"x": 30, "y": 20, "z": 0}, {"x": 20, "y": 30, "z": 0})
    expected = chi2_contingency(np.array([[30, 20], [20, 30]]))
    assert with_zero.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert with_zero.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_chisquare_is_calm_without_drift_and_fires_with_it() -> None:
    rng = np.random.default_rng(3)
    shares = [0.5, 0.3, 0.2]
    ref = dict(zip("abc", rng.multinomial(800, shares).tolist(), strict=True))
    same = dict(zip("abc", rng.multinomial(400, shares).tolist(), strict=True))
    moved = dict(zip("abc", rng.multinomial(400, [0.35, 0.35, 0.3]).tolist(), strict=True))
    assert chisquare_categorical(ref, same).p_value > 0.05
    assert chisquare_categorical(ref, moved).p_value < 0.05


def test_ztest_equals_statsmodels_and_the_uncorrected_chisquare() -> None:
    # statsmodels is not a declared dependency (dowhy pulls it in).
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    ref, cur = {"no": 620, "yes": 380}, {"no": 250, "yes": 200}
    result = ztest_proportions(ref, cur)  # positive = "yes", the larger category
    z, p = proportion.proportions_ztest([200, 380], [450, 1000])  # current minus reference
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-9)
    chi2 = chi2_contingency(np.array([[620, 380], [250, 200]]), correction=False)
    assert result.statistic**2 == pytest.approx(chi2.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(chi2.pvalue, rel=1e-9)


@pytest.mark.parametrize(
    ("ref", "cur", "expected_sign"),
    [
        ({False: 60, True: 40}, {False: 40, True: 60}, 1),  # positive True
        ({0: 60, 1: 40}, {0: 40, 1: 60}, 1),  # positive 1
        ({"1": 60, 0: 40}, {"1": 40, 0: 60}, -1),  # mixed types: str "1" > "0"
    ],
)
def test_ztest_default_positive_is_the_larger_category(ref, cur, expected_sign: int) -> None:
    result = ztest_proportions(ref, cur)
    assert np.sign(result.statistic) == expected_sign
    assert abs(result.statistic) == pytest.approx(np.sqrt(8), rel=1e-12)  # .2 / sqrt(.25 * .02)


def test_ztest_positive_keyword_and_category_against_rest() -> None:
    ref, cur = {"a": 50, "b": 30, "c": 20}, {"a": 30, "b": 30, "c": 40}
    a_vs_rest = ztest_proportions(ref, cur, positive="a")
    merged = ztest_proportions({"a": 50, "rest": 50}, {"a": 30, "rest": 70}, positive="a")
    assert a_vs_rest.statistic == pytest.approx(merged.statistic, rel=1e-12)
    with pytest.raises(ValueError, match="ztest needs a binary column; got 3 categories"):
        ztest_proportions(ref, cur)


def test_single_category_means_no_drift() -> None:
    assert jensenshannon_categorical({"x": 10}, {"x": 3}).statistic == 0.0
    assert psi_categorical({"x": 10}, {"x": 3}).statistic == 0.0
    chi = chisquare_categorical({"x": 10}, {"x": 3})
    assert (chi.statistic, chi.p_value) == (0.0, 1.0)
    z = ztest_proportions({"x": 10}, {"x": 3})
    assert (z.statistic, z.p_value) == (0.0, 1.0)


def test_disjoint_categories_reach_the_maxima() -> None:
    assert jensenshannon_categorical({"a": 3}, {"b": 7}).statistic == pytest.approx(
        np.sqrt(np.log(2))
    )
    assert hellinger_categorical({"a": 3}, {"b": 7}).statistic == pytest.approx(1.0)
    assert l_infinity_categorical({"a": 3}, {"b": 7}).statistic == pytest.approx(1.0)
    assert chisquare_categorical({"a": 300}, {"b": 700}).p_value < 1e-100


@pytest.mark.parametrize(
    "function",
    [jensenshannon_categorical, hellinger_categorical, psi_categorical, l_infinity_categorical,
     chisquare_categorical, ztest_proportions],
)  # fmt: skip
def test_empty_side_and_bad_counts_are_clear_errors(function) -> None:
    with pytest.raises(ValueError, match="The cur distribution is empty"):
        function({"a": 1}, {})
    with pytest.raises(ValueError, match="The ref distribution is empty"):
        function({"a": 0}, {"a": 1})
    with pytest.raises(ValueError, match=r"ref_counts must be finite and >= 0; got \{'a': -1\}"):
        function({"a": -1}, {"a": 1})
    with pytest.raises(ValueError, match="cur_counts must be a mapping"):
        function({"a": 1}, [1])
