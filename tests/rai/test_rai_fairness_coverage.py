"""Coverage of the fairness intervals and uniformity of the no-disparity p-value, by
simulation over many seeds (vectorised: the whole file runs in seconds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from scipy import stats
from sklearn.metrics import precision_score, recall_score

from rai.components import fairness_intervals as fi

RUNS = 200


def _null_sample(rng: np.random.Generator, n: int, group_probs: list[float]):
    """Labels and predictions with a sensitive feature independent of both."""
    y = (rng.uniform(size=n) < 0.4).astype(int)
    flip = rng.uniform(size=n) < 0.2
    p = np.where(flip, 1 - y, y)
    codes = rng.choice(len(group_probs), size=n, p=group_probs)
    return y, p, codes


def _one_run(seed: int, n: int, group_probs: list[float], boots: int = 300, perms: int = 199):
    rng = np.random.default_rng(seed)
    y, p, codes = _null_sample(rng, n, group_probs)
    g = len(group_probs)
    point, point_n = fi.group_statistics_with_counts("binary", y, p, codes, g, 2)
    index = fi.stratified_bootstrap(codes, boots, rng)
    boot, boot_n = fi.group_statistics_with_counts("binary", y[index], p[index], codes, g, 2)
    intervals = {
        name: fi.aggregate_interval(point, boot, *fi.ratio_kind(name), point_n, boot_n)
        for name in (
            "demographic_parity_difference",
            "equalized_odds_difference",
            "demographic_parity_ratio",
            "tpr_difference",
        )
    }
    p_values = fi.permutation_p_values("binary", y, p, codes, g, 2, permutations=perms, rng=rng)
    _, low, high, _ = fi.contrast_band(
        ("selection_rate",), "difference", point, boot, point_n, boot_n
    )
    return intervals, p_values, (low, high)


@pytest.mark.parametrize("group_probs", [[0.5, 0.5], [0.5, 0.3, 0.2]], ids=["2groups", "3groups"])
def test_intervals_cover_zero_and_p_values_are_uniform_under_independence(group_probs) -> None:
    covered = {name: 0 for name in ("dpd", "eod", "dpr", "tpr", "signed")}
    p_values = []
    for seed in range(RUNS):
        intervals, p_val, (low, high) = _one_run(seed, 300, group_probs)
        dpd, eod = (
            intervals["demographic_parity_difference"],
            intervals["equalized_odds_difference"],
        )
        covered["dpd"] += dpd[0] <= 0.0 <= dpd[1]
        covered["eod"] += eod[0] <= 0.0 <= eod[1]
        covered["tpr"] += intervals["tpr_difference"][0] == 0.0
        ratio = intervals["demographic_parity_ratio"]
        covered["dpr"] += ratio[0] <= 1.0 <= ratio[1]
        covered["signed"] += bool(np.all((low <= 0) & (high >= 0)))
        p_values.append(p_val["demographic_parity_difference"])
    rates = {k: v / RUNS for k, v in covered.items()}
    assert min(rates.values()) >= 0.90, rates
    assert max(rates.values()) <= 0.995, rates  # honest, not trivially wide
    ks = stats.kstest(p_values, "uniform")
    assert ks.pvalue > 0.01, (ks, np.quantile(p_values, [0.05, 0.25, 0.5, 0.75, 0.95]))
    # a 5 % test rejects about 5 % of the time
    assert 0.01 <= np.mean(np.asarray(p_values) <= 0.05) <= 0.10


def test_signed_difference_interval_covers_a_nonzero_true_difference() -> None:
    """Selection rates 0.3 (group a) and 0.5 (group b): the signed difference is +0.2."""
    hits, widths = 0, []
    for seed in range(RUNS):
        rng = np.random.default_rng(10_000 + seed)
        codes = rng.choice(2, size=400)
        p = (rng.uniform(size=400) < np.where(codes == 1, 0.5, 0.3)).astype(int)
        y = p.copy()
        point, point_n = fi.group_statistics_with_counts("binary", y, p, codes, 2, 2)
        index = fi.stratified_bootstrap(codes, 300, rng)
        boot, boot_n = fi.group_statistics_with_counts("binary", y[index], p[index], codes, 2, 2)
        _, low, high, _ = fi.contrast_band(
            ("selection_rate",), "difference", point, boot, point_n, boot_n
        )
        hits += low[0] <= 0.2 <= high[0]
        widths.append(high[0] - low[0])
    assert 0.90 <= hits / RUNS <= 0.99
    # close to the normal-theory width 2 * 1.96 * sqrt(.21/200 + .25/200) = 0.188
    assert np.mean(widths) == pytest.approx(0.188, rel=0.1)


def test_vectorised_group_statistics_equal_fairlearn_on_resamples() -> None:
    rng = np.random.default_rng(3)
    y, p, codes = _null_sample(rng, 250, [0.4, 0.35, 0.25])
    index = fi.stratified_bootstrap(codes, 5, rng)
    boot = fi.group_statistics("binary", y[index], p[index], codes, 3, 2)
    for b in range(5):
        frame = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "precision": lambda t, q: precision_score(t, q, zero_division=0),
            },
            y_true=y[index[b]],
            y_pred=p[index[b]],
            sensitive_features=codes,
        )
        for metric in ("selection_rate", "tpr", "fpr", "precision"):
            np.testing.assert_allclose(boot[metric][b], frame.by_group[metric].to_numpy())
    # stratified: each resample keeps every row's group
    assert (codes[index] == codes).all()


def test_multiclass_group_statistics_equal_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    t, p = rng.integers(0, 3, size=300), rng.integers(0, 3, size=300)
    codes = rng.integers(0, 2, size=300)
    got = fi.group_statistics("multiclass", t, p, codes, 2, 3)
    frame = MetricFrame(
        metrics={
            "macro_recall": lambda a, b: recall_score(
                a, b, labels=[0, 1, 2], average="macro", zero_division=0
            ),
            "macro_precision": lambda a, b: precision_score(
                a, b, labels=[0, 1, 2], average="macro", zero_division=0
            ),
        },
        y_true=t,
        y_pred=p,
        sensitive_features=codes,
    )
    np.testing.assert_allclose(got["macro_recall"], frame.by_group["macro_recall"])
    np.testing.assert_allclose(got["macro_precision"], frame.by_group["macro_precision"])


def test_permutation_p_value_matches_a_direct_loop() -> None:
    """The vectorised permutation test equals a plain loop over the same permutations."""
    rng = np.random.default_rng(5)
    y, p, codes = _null_sample(rng, 120, [0.5, 0.5])
    got = fi.permutation_p_values(
        "binary", y, p, codes, 2, 2, permutations=99, rng=np.random.default_rng(1)
    )
    shuffled = fi.permuted_codes(codes, 99, np.random.default_rng(1))

    def dpd(c):
        rates = pd.Series(p).groupby(c).mean()
        return rates.max() - rates.min()

    observed = dpd(codes)
    expected = (1 + sum(dpd(s) >= observed - 1e-12 for s in shuffled)) / 100
    assert got["demographic_parity_difference"] == pytest.approx(expected)


def test_largest_abs_interval_rules() -> None:
    low, high = np.array([-0.1, 0.05]), np.array([0.2, 0.3])
    assert fi.largest_abs_interval(low, high) == (0.05, 0.3)
    assert fi.largest_abs_interval(np.array([-0.4]), np.array([-0.1])) == (0.1, 0.4)
