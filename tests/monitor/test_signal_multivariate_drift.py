"""Multivariate drift (PCA reconstruction, domain classifier): a valid test at every size.

The PCA is fitted once at baseline creation on half of the reservoir; a window's per-row
errors are compared with the other half's by a one-sided Mann–Whitney test. Checked here:
the errors against scikit-learn's PCA, the p-value against a brute-force U and its normal
law, the false-alarm rate on no-change windows over many seeds and sizes, the power on a
correlation flip, and bad inputs.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.decomposition import PCA

from monitor.baseline.reference import Baseline, create_baseline
from monitor.profiles.dataset import build_profile
from monitor.signals.base import SignalContext
from monitor.signals.multivariate_drift import (
    MultivariateDriftSettings,
    evaluate,
    fit_pca_part,
    judge_domain_classifier,
    judge_pca,
    pca_row_errors,
)
from monitor.spec.model_version import parse_model_version

COLS = ["x1", "x2", "x3", "x4", "x5"]
MV = parse_model_version({
    "name": "joint", "version": "1", "task": "binary",
    "features": {**dict.fromkeys(COLS, "numeric"), "city": "categorical"},
    "prediction": "prediction", "scores": ["score"], "classes": ["0", "1"],
})  # fmt: skip


def _features(
    n: int, rng: np.random.Generator, rho: float = 0.8, shift: float = 0.0
) -> pd.DataFrame:
    """x1..x3 correlated normals (rho), x4 exponential, x5 = x1 + noise; 2 % missing in x4."""
    cov = np.full((3, 3), rho) + (1 - rho) * np.eye(3)
    x = rng.multivariate_normal([0.0, 0.0, 0.0], cov, size=n) + shift
    x4 = rng.exponential(size=n)
    x4[rng.uniform(size=n) < 0.02] = np.nan
    x5 = x[:, 0] + rng.normal(scale=0.5, size=n)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "x4": x4, "x5": x5})


def _rows(n: int, seed: int, **kw: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = _features(n, rng, **kw)
    score = 1 / (1 + np.exp(-frame["x1"].to_numpy()))
    frame["city"] = rng.choice(["a", "b", "c"], size=n)
    frame["score"], frame["prediction"] = score, (score >= 0.5).astype(int)
    frame["request_id"] = [f"{seed}-{i}" for i in range(n)]
    frame["timestamp"] = pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(
        np.arange(n), unit="s"
    )
    return frame


@functools.cache
def _baseline() -> Baseline:
    return create_baseline(MV, _rows(4000, 0), seed=0, threads=1)


def _evaluate(window: pd.DataFrame, alpha: float = 0.002, **settings: object) -> list:
    baseline = _baseline()
    profile = build_profile([window], baseline.window_plan(), threads=1)
    context = SignalContext(baseline=baseline, window=profile, alphas={"multivariate_drift": alpha})
    return evaluate(context, MultivariateDriftSettings(**settings))


# --- the statistic against independent computations -------------------------------------


def test_row_errors_equal_sklearn_pca_reconstruction() -> None:
    frame = _features(3000, np.random.default_rng(1)).fillna({"x4": 1.0})
    part = fit_pca_part(frame, COLS, seed=3)
    order = np.random.default_rng(3).permutation(len(frame))
    fit = frame.to_numpy()[order[:1500]]
    mean, scale = fit.mean(axis=0), fit.std(axis=0)
    k = len(part["components"])
    pca = PCA(n_components=k, svd_solver="full").fit((fit - mean) / scale)
    assert (
        pca.explained_variance_ratio_[: k - 1].sum() < 0.65 <= pca.explained_variance_ratio_.sum()
    )
    window = _features(200, np.random.default_rng(2)).fillna({"x4": 1.0}).to_numpy()
    z = (window - mean) / scale
    expected = np.linalg.norm(z - pca.inverse_transform(pca.transform(z)), axis=1)
    np.testing.assert_allclose(pca_row_errors(part, window), expected, rtol=1e-8, atol=1e-10)
    held = frame.to_numpy()[order[1500:]]
    np.testing.assert_allclose(part["held_out_errors"], pca_row_errors(part, held), rtol=1e-12)


def test_p_value_is_the_one_sided_mann_whitney_of_brute_force_u() -> None:
    part = fit_pca_part(_features(2000, np.random.default_rng(4)), COLS, seed=0)
    window = _features(300, np.random.default_rng(5), rho=0.5)
    r = judge_pca(part, window, alpha=0.01, min_effect=0.1)
    w = pca_row_errors(part, window[COLS].to_numpy())
    h = np.asarray(part["held_out_errors"])
    u = float((w[:, None] > h[None, :]).sum() + 0.5 * (w[:, None] == h[None, :]).sum())
    n1, n2 = len(w), len(h)
    z = (u - n1 * n2 / 2 - 0.5) / np.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)  # continuity-corrected
    assert r.statistic == pytest.approx(u)
    assert r.p_value == pytest.approx(stats.norm.sf(z), rel=1e-6)
    assert r.effect_size == pytest.approx(w.mean() / h.mean() - 1, rel=1e-12)
    assert r.value == pytest.approx(w.mean()) and r.threshold == pytest.approx(1.1 * h.mean())


# --- false alarms and power -------------------------------------------------------------


@pytest.mark.parametrize("n", [100, 1000, 5000])
def test_false_alarm_rate_on_no_change_windows_is_within_alpha(n: int) -> None:
    """300 independent (baseline, window) pairs per size: P(p <= a) <= a + 3 MC errors."""
    sims = 300
    p = np.empty(sims)
    for s in range(sims):
        rng = np.random.default_rng(10_000 * n + s)
        part = fit_pca_part(_features(1000, rng), COLS, seed=s)
        p[s] = judge_pca(part, _features(n, rng), alpha=0.01, min_effect=0.1).p_value
    for a in (0.01, 0.05, 0.2):
        assert (p <= a).mean() <= a + 3 * np.sqrt(a * (1 - a) / sims), a
    # and the signal is not blind: p is spread over [0, 1], not stuck near 1
    assert 0.35 < np.median(p) < 0.65


def test_alerts_at_the_alpha_share_over_many_windows_stay_within_budget() -> None:
    """1200 no-change windows of mixed sizes at alpha 0.002 (0.01 over 5 signals)."""
    part = fit_pca_part(_features(4000, np.random.default_rng(99)), COLS, seed=0)
    alerts = 0
    for s in range(1200):
        rng = np.random.default_rng(s)
        r = judge_pca(part, _features((100, 1000, 3000)[s % 3], rng), alpha=0.002, min_effect=0.1)
        alerts += r.status == "alert"
    # expected <= 2.4; P(Poisson(2.4) > 8) < 0.001
    assert alerts <= 8


@pytest.mark.parametrize("n", [100, 1000])
def test_a_correlation_flip_pages_at_every_size(n: int) -> None:
    """Marginals unchanged (x1..x3 stay standard normal), their correlation weakens."""
    part = fit_pca_part(_features(4000, np.random.default_rng(7)), COLS, seed=0)
    fired = [
        judge_pca(
            part, _features(n, np.random.default_rng(s), rho=0.2), alpha=0.002, min_effect=0.1
        ).status
        for s in range(40)
    ]
    assert fired.count("alert") >= (38 if n == 1000 else 30)


def test_a_tiny_significant_change_is_a_warning_not_a_page() -> None:
    part = fit_pca_part(_features(4000, np.random.default_rng(8)), COLS, seed=0)
    window = _features(5000, np.random.default_rng(9), rho=0.72)  # errors grow by a few %
    r = judge_pca(part, window, alpha=0.002, min_effect=0.1)
    assert r.p_value < 0.002 and 0 < r.effect_size < 0.1
    assert r.status == "warning"


# --- the signal through its context -----------------------------------------------------


def test_evaluate_reads_the_state_fitted_at_baseline_time() -> None:
    part = _baseline().performance["multivariate"]["pca"]
    assert len(part["held_out_errors"]) == 2000 and part["fit_rows"] == 2000
    (ok,) = _evaluate(_rows(1000, 1))
    assert ok.status == "ok" and ok.metric == "pca_reconstruction_error"
    assert ok.alpha == 0.002 and ok.correction == "none" and ok.min_effect == 0.1
    assert ok.reference_size == 2000 and ok.current_size == 1000 and 0 < ok.p_value <= 1
    (flip,) = _evaluate(_rows(1000, 2, rho=-0.3))
    assert flip.status == "alert" and flip.effect_size > 0.5 and flip.p_value < 1e-20


def test_both_methods_split_the_alpha_bonferroni() -> None:
    pca, dc = _evaluate(_rows(600, 3), alpha=0.004, methods=("pca", "domain_classifier"))
    assert pca.alpha == dc.alpha == 0.002 and pca.correction == dc.correction == "bonferroni"
    assert dc.metric == "domain_classifier_auc" and dc.status == "ok"
    _, dc_shift = _evaluate(
        _rows(600, 4, shift=1.0), alpha=0.004, methods=("pca", "domain_classifier")
    )
    assert dc_shift.status == "alert" and dc_shift.value > 0.7


def test_domain_classifier_false_alarm_rate() -> None:
    part = _baseline().performance["multivariate"]["domain_classifier"]
    ref = _baseline().profile.reservoir.to_pandas()
    p = [
        judge_domain_classifier(part, ref, _rows(200, 500 + s), alpha=0.05, min_effect=0.05).p_value
        for s in range(40)
    ]
    assert np.mean(np.array(p) <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 40)


# --- bad inputs ---------------------------------------------------------------------------


def test_five_row_window_is_no_data_with_the_reason() -> None:
    (r,) = _evaluate(_rows(5, 1))
    assert r.status == "no_data" and "5 sampled rows" in r.message and "at least 50" in r.message


def test_inf_rows_are_dropped_and_counted_never_a_nan_alert() -> None:
    window = _rows(500, 5)
    window.loc[:2, "x2"] = np.inf
    window.loc[3, "x3"] = -np.inf
    window.loc[4:20, "x1"] = np.nan  # missing: imputed with the baseline median
    (r,) = _evaluate(window)
    assert r.status == "ok" and np.isfinite(r.value) and np.isfinite(r.p_value)
    assert r.current_size == 496 and r.details["dropped_non_finite"] == 4
    assert "4 row(s) with ±inf values dropped" in r.message


def test_all_inf_window_is_no_data() -> None:
    part = fit_pca_part(_features(500, np.random.default_rng(0)), COLS)
    window = _features(60, np.random.default_rng(1)).assign(x2=np.inf)
    r = judge_pca(part, window, alpha=0.01, min_effect=0.1)
    assert r.status == "no_data" and r.value is None and "60 row(s) with ±inf" in r.message


def test_a_too_small_baseline_says_the_size_needed() -> None:
    from monitor.signals.multivariate_drift import fit_multivariate_part

    part = fit_multivariate_part(_features(60, np.random.default_rng(0)), COLS, [], seed=0)
    assert "needs at least 100" in part["pca"]["error"]
    one = fit_multivariate_part(_features(600, np.random.default_rng(0)), ["x1"], [], seed=0)
    assert "2+ numeric columns" in one["pca"]["error"]


def test_a_baseline_without_the_part_is_no_data() -> None:
    baseline = _baseline()
    old = Baseline(
        baseline.model_version,
        baseline.profile,
        baseline.plan,
        {},
        baseline.created_at,
    )
    profile = build_profile([_rows(200, 1)], old.window_plan(), threads=1)
    (r,) = evaluate(SignalContext(baseline=old, window=profile, alphas={"multivariate_drift": 0.01}),
                    MultivariateDriftSettings())  # fmt: skip
    assert r.status == "no_data" and "rebuild it" in r.message


@pytest.mark.parametrize("d", [2, 5, 21, 40])
@pytest.mark.parametrize("variance", [0.5, 0.65, 0.9, 0.99])
def test_principal_axes_span_sklearns_pca_subspace(d: int, variance: float) -> None:
    from monitor.signals.multivariate_drift import principal_axes

    rng = np.random.default_rng(d)
    x = rng.normal(size=(3000, d)) @ rng.normal(size=(d, d))  # correlated columns
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    k = int(PCA(n_components=variance, svd_solver="full").fit(z).n_components_)
    expected = PCA(n_components=min(k, d - 1), svd_solver="full").fit(z).components_
    axes = principal_axes(z, variance)
    assert axes.shape == expected.shape
    # same subspace: equal projection matrices (the axes' signs are arbitrary)
    np.testing.assert_allclose(axes.T @ axes, expected.T @ expected, atol=1e-10)
