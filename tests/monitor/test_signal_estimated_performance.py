"""Estimated performance (CBPE): the window's estimate against the reference's, a z-test.

The CBPE state, the reference estimate and its bootstrap spread are fitted once at baseline
creation; a window's estimate is compared by a one-sided z-test with the standard error of
both estimates at their sizes, Holm across the metrics. Checked here: the spread against a
closed form, the p-value against scipy, false alarms over many seeds and sizes, power on a
model that lost its confidence, and bad inputs.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monitor.baseline.reference import Baseline, create_baseline
from monitor.profiles.dataset import build_profile
from monitor.signals.base import SignalContext
from monitor.signals.estimated_performance import (
    EstimatedPerformanceSettings,
    evaluate,
    fit_cbpe_part,
    judge_window,
)
from monitor.signals.performance import holm
from monitor.spec.model_version import parse_model_version

MV = parse_model_version({
    "name": "cbpe", "version": "1", "task": "binary", "features": {"x1": "numeric", "x2": "numeric"},
    "target": "target", "prediction": "prediction", "scores": ["score"], "classes": ["0", "1"],
})  # fmt: skip
SETTINGS = EstimatedPerformanceSettings()


def _world(
    n: int, rng: np.random.Generator, confidence: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated scores of a logistic model; ``confidence`` < 2: a model that got unsure."""
    x = rng.normal(size=n)
    score = 1 / (1 + np.exp(-(confidence * x + 0.3)))
    target = (rng.uniform(size=n) < score).astype(int)
    return score, target, (score >= 0.5).astype(int)


@functools.cache
def _part(m: int, seed: int) -> dict:
    score, target, pred = _world(m, np.random.default_rng(seed))
    return fit_cbpe_part(
        "binary", score, target.astype(str), pred.astype(str), classes=("0", "1"), seed=seed
    )


def _rows(n: int, seed: int, confidence: float = 2.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score, target, pred = _world(n, rng, confidence)
    return pd.DataFrame({
        "x1": rng.normal(size=n), "x2": rng.normal(size=n), "score": score, "prediction": pred,
        "target": target, "request_id": [f"{seed}-{i}" for i in range(n)],
        "timestamp": pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
    })  # fmt: skip


@functools.cache
def _baseline() -> Baseline:
    return create_baseline(MV, _rows(3000, 0), seed=0, threads=1)


def _evaluate(window: pd.DataFrame, alpha: float = 0.002) -> dict:
    baseline = _baseline()
    profile = build_profile([window.drop(columns="target")], baseline.window_plan(), threads=1)
    context = SignalContext(
        baseline=baseline, window=profile, alphas={"estimated_performance": alpha}
    )
    return {r.metric: r for r in evaluate(context, SETTINGS)}


def _alerted(results: list, alpha: float) -> bool:
    """Holm at ``alpha`` rejects something iff the smallest p-value is <= alpha / k."""
    p = [r.p_value for r in results if r.p_value is not None]
    return min(p) <= alpha / len(p)


# --- against independent computations ----------------------------------------------------


def test_spread_of_the_accuracy_estimate_matches_its_closed_form() -> None:
    """Identity-calibrated accuracy estimate = mean of max(p, 1-p); its SE is sd/sqrt(m)."""
    score, target, pred = _world(4000, np.random.default_rng(1))
    part = fit_cbpe_part(
        "binary",
        score,
        target.astype(str),
        pred.astype(str),
        classes=("0", "1"),
        seed=1,
        calibration="identity",
    )
    held = np.random.default_rng(1).permutation(4000)[2000:]  # the half not used to calibrate
    hit = np.maximum(score, 1 - score)[held]
    assert part["reference_estimate"]["accuracy"] == pytest.approx(hit.mean(), abs=1e-12)
    # 500 bootstrap resamples: the sd is known to about 3 %
    assert part["estimate_sd_unit"]["accuracy"] == pytest.approx(hit.std(), rel=0.15)
    assert part["reference_size"] == part["calibration_rows"] == 2000 and part["n_boot"] == 500


def test_p_value_is_the_one_sided_normal_tail_and_holm_levels() -> None:
    part = _part(3000, 2)
    score, _, pred = _world(400, np.random.default_rng(3), confidence=1.5)
    results = judge_window(part, score, pred.astype(str), alpha=0.01, settings=SETTINGS)
    for r in results:
        ref, sd = part["reference_estimate"][r.metric], part["estimate_sd_unit"][r.metric]
        se = sd * np.sqrt(1 / 400 + 1 / 1500)
        assert r.p_value == pytest.approx(stats.norm.sf((ref - r.value) / se), rel=1e-9)
        assert r.effect_size == pytest.approx(ref - r.value) and r.correction == "holm"
    ranked = sorted(results, key=lambda r: r.p_value)
    assert [r.alpha for r in ranked] == pytest.approx([0.01 / 3, 0.01 / 2, 0.01])


def test_holm_matches_its_definition() -> None:
    levels, rejected = holm([0.001, 0.2, 0.004, 0.009], 0.02)
    assert levels == pytest.approx([0.005, 0.02, 0.02 / 3, 0.01])
    assert rejected == [True, False, True, True]
    assert holm([0.0, 0.0], 0.0)[1] == [False, False]  # a signal without budget never pages


# --- false alarms and power ---------------------------------------------------------------


@pytest.mark.parametrize("n", [100, 1000, 5000])
def test_false_alarm_rate_on_no_change_windows_is_within_alpha(n: int) -> None:
    """8 baselines x 60 windows: P(Holm rejects any metric) <= alpha + 3 MC errors."""
    hits = {0.01: 0, 0.05: 0}
    sims = 0
    for b in range(8):
        part = _part(2000, 100 + b)
        for s in range(60):
            score, _, pred = _world(n, np.random.default_rng(1000 * n + 100 * b + s))
            results = judge_window(part, score, pred.astype(str), alpha=0.05, settings=SETTINGS)
            for a in hits:
                hits[a] += _alerted(results, a)
            sims += 1
    for a, k in hits.items():
        assert k / sims <= a + 3 * np.sqrt(a * (1 - a) / sims), (a, k, sims)


@pytest.mark.parametrize("n", [100, 1000])
def test_a_model_that_lost_confidence_pages(n: int) -> None:
    part = _part(3000, 4)
    statuses = [
        {
            r.metric: r.status
            for r in judge_window(part, *_unsure(n, s), alpha=0.002, settings=SETTINGS)
        }
        for s in range(30)
    ]
    assert sum(st["accuracy"] == "alert" for st in statuses) >= (29 if n == 1000 else 20)


def _unsure(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    score, _, pred = _world(n, np.random.default_rng(seed), confidence=0.8)
    return score, pred.astype(str)


def test_a_small_significant_drop_is_a_warning() -> None:
    part = _part(20000, 5)
    score, _, pred = _world(20000, np.random.default_rng(6), confidence=1.7)
    res = {
        r.metric: r
        for r in judge_window(part, score, pred.astype(str), alpha=0.002, settings=SETTINGS)
    }
    assert res["accuracy"].p_value < 1e-6 and 0 < res["accuracy"].effect_size < 0.05
    assert res["accuracy"].status == "warning"


# --- through the signal's context, and bad inputs ------------------------------------------


def test_evaluate_states_every_field() -> None:
    res = _evaluate(_rows(1000, 7))
    assert set(res) == {"accuracy", "roc_auc", "f1"}
    for r in res.values():
        assert r.status == "ok" and r.correction == "holm" and r.min_effect == 0.05
        assert r.reference_size == 1500 and r.current_size == 1000
        assert (
            0 < r.p_value <= 1
            and r.alpha <= 0.002
            and r.threshold == pytest.approx(r.details["reference_estimate"] - 0.05)
        )
    res = _evaluate(_rows(1000, 8, confidence=0.8))
    assert res["accuracy"].status == "alert" and res["accuracy"].effect_size > 0.1


def test_five_row_window_is_no_data_not_an_alert() -> None:
    res = _evaluate(_rows(5, 9, confidence=0.1))
    assert {r.status for r in res.values()} == {"no_data"}
    assert "5 scored rows" in res["accuracy"].message and "at least 100" in res["accuracy"].message


def test_nan_and_inf_scores_are_left_out_and_counted() -> None:
    window = _rows(500, 10)
    window["score"] = window["score"].astype(float)
    window.loc[:4, "score"] = np.nan
    window.loc[5:6, "score"] = np.inf
    res = _evaluate(window)
    for r in res.values():
        assert r.status == "ok" and r.current_size == 493 and np.isfinite(r.value)
        assert "7 row(s) with a non-finite score" in r.message


def test_scores_that_are_not_probabilities_are_an_error() -> None:
    window = _rows(300, 11)
    window.loc[0, "score"] = 3.0
    res = _evaluate(window)
    assert {r.status for r in res.values()} == {"error"}
    assert "probabilities in [0, 1]" in res["accuracy"].message


def test_a_baseline_without_labels_says_why() -> None:
    mv = parse_model_version({**MV.model_dump(mode="json"), "target": None})
    baseline = create_baseline(mv, _rows(300, 12).drop(columns="target"), seed=0, threads=1)
    profile = build_profile([_rows(200, 13)], baseline.window_plan(), threads=1)
    res = evaluate(
        SignalContext(baseline=baseline, window=profile, alphas={"estimated_performance": 0.01}),
        SETTINGS,
    )
    assert {r.status for r in res} == {"no_data"} and "no labelled reference data" in res[0].message
