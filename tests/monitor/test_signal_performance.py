"""Realised performance: a one-sided z-test of the drop, with the sampling error of both sides.

The reference metrics and their bootstrap spread are fitted once at baseline creation; a
labelled window is judged by ``z = drop / (sd_ref * sqrt(1 + n_ref / n_win))``, Holm across
the metrics. Checked here: the spread against the binomial closed form, the p-value against
scipy, false alarms over many seeds and sizes, power on a real drop, and bad inputs.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monitor.baseline.reference import Baseline, create_baseline
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.profiles.dataset import build_profile
from monitor.signals.base import SignalContext
from monitor.signals.performance import (
    CLASSIFICATION_METRICS,
    BaselinePerformance,
    PerformanceSettings,
    baseline_performance,
    evaluate,
    judge_metrics,
    measure_window,
)
from monitor.spec.model_version import parse_model_version

MV = parse_model_version({
    "name": "perf", "version": "1", "task": "binary", "features": {"x1": "numeric", "x2": "numeric"},
    "target": "target", "prediction": "prediction", "scores": ["score"], "classes": ["0", "1"],
})  # fmt: skip
SETTINGS = PerformanceSettings()


def _world(
    n: int, rng: np.random.Generator, flip: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions, calibrated scores; ``flip``: share of labels flipped (a real drop)."""
    score = 1 / (1 + np.exp(-(2.0 * rng.normal(size=n) + 0.3)))
    y = (rng.uniform(size=n) < score).astype(int)
    y = np.where(rng.uniform(size=n) < flip, 1 - y, y)
    return y, (score >= 0.5).astype(int), score


@functools.cache
def _reference(m: int, seed: int) -> BaselinePerformance:
    return baseline_performance(
        "binary", *_world(m, np.random.default_rng(seed)), n_boot=200, seed=seed
    )


def _judge(base: BaselinePerformance, n: int, seed: int, alpha: float, flip: float = 0.0) -> list:
    """As :func:`evaluate` does: small windows also bootstrapped for their own SE."""
    n_boot = SETTINGS.window_bootstrap if n < SETTINGS.bootstrap_below else 0
    y, pred, score = _world(n, np.random.default_rng(seed), flip)
    w, se = measure_window("binary", y, pred, score, n_boot=n_boot, seed=0)
    sizes = dict.fromkeys(w.metrics, w.n)
    return judge_metrics(w.metrics, sizes, base, alpha=alpha, settings=SETTINGS, window_se=se)


def _rows(n: int, seed: int, flip: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y, pred, score = _world(n, rng, flip)
    return pd.DataFrame({
        "x1": rng.normal(size=n), "x2": rng.normal(size=n), "score": score, "prediction": pred,
        "target": y, "request_id": [f"{seed}-{i}" for i in range(n)],
        "timestamp": pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
    })  # fmt: skip


@functools.cache
def _baseline() -> Baseline:
    return create_baseline(MV, _rows(3000, 0), seed=0, threads=1)


def _evaluate(window: pd.DataFrame, alpha: float = 0.002, **settings: object) -> dict:
    baseline = _baseline()
    labelled = window.rename(columns={"target": LABEL_COLUMN})
    profile = build_profile([window.drop(columns="target")], baseline.window_plan(), threads=1)
    context = SignalContext(
        baseline=baseline, window=profile, labelled=labelled, alphas={"performance": alpha}
    )
    return {r.metric: r for r in evaluate(context, PerformanceSettings(**settings))}


# --- against independent computations -------------------------------------------------------


def test_reference_spread_of_accuracy_matches_the_binomial_closed_form() -> None:
    base = _reference(4000, 1)
    p = base.metrics["accuracy"].value
    assert base.metrics["accuracy"].std == pytest.approx(np.sqrt(p * (1 - p) / 4000), rel=0.2)


def test_p_value_is_the_normal_tail_of_the_drop_with_both_standard_errors() -> None:
    base = _reference(2000, 2)
    results = _judge(base, 3000, 3, alpha=0.01, flip=0.05)  # large: the scaled reference SE
    for r in results:
        b = base.metrics[r.metric]
        sign = 1 if r.metric != "log_loss" else -1
        se = b.std * np.sqrt(1 + 2000 / 3000)
        assert r.effect_size == pytest.approx(sign * (b.value - r.value))
        assert r.p_value == pytest.approx(stats.norm.sf(r.effect_size / se), rel=1e-9)
        assert r.correction == "holm" and r.reference_size == 2000 and r.current_size == 3000
    # Holm's levels: alpha/6, alpha/5, ... while rejecting; after the first p-value that
    # fails, every later one is judged at that same level (and fails too)
    ps = [r.p_value for r in results]
    order = sorted(range(6), key=lambda i: ps[i])
    expected, stop = [0.0] * 6, None
    for rank, i in enumerate(order):
        level = 0.01 / (6 - rank) if stop is None else stop
        if stop is None and ps[i] >= level:
            stop = level
        expected[i] = level
    assert [r.alpha for r in results] == pytest.approx(expected)
    # a small window: its own bootstrap SE when larger than the scaled one
    y, pred, score = _world(150, np.random.default_rng(4))
    w, own = measure_window("binary", y, pred, score, n_boot=200, seed=0)
    boot = np.random.default_rng(0)
    acc = [np.mean(y[i] == pred[i]) for i in (boot.integers(0, 150, 150) for _ in range(200))]
    assert own["accuracy"] == pytest.approx(np.std(acc), rel=1e-12)
    (small,) = judge_metrics(
        w.metrics,
        dict.fromkeys(w.metrics, 150),
        base,
        alpha=0.01,
        settings=PerformanceSettings(metrics=("accuracy",)),
        window_se=own,
    )
    b = base.metrics["accuracy"]
    se = np.hypot(b.std, max(b.std * np.sqrt(2000 / 150), own["accuracy"]))
    assert small.details["standard_error"] == pytest.approx(se, rel=1e-12)
    ll = next(r for r in results if r.metric == "log_loss")
    assert ll.min_effect == pytest.approx(
        0.1 * base.metrics["log_loss"].value
    )  # relative for log loss


# --- false alarms and power --------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "baselines", "windows"), [(100, 5, 50), (1000, 4, 25), (5000, 6, 60)]
)
def test_false_alarm_rate_on_no_change_windows_is_within_alpha(
    n: int, baselines: int, windows: int
) -> None:
    """Baselines x windows: P(Holm rejects any metric) <= alpha + 3 MC errors.

    Windows under 2000 rows are bootstrapped (as :func:`evaluate` does), so fewer of them.
    """
    hits, sims = {0.01: 0, 0.05: 0}, 0
    for b in range(baselines):
        base = _reference(2000, 100 + b)
        for s in range(windows):
            p = [r.p_value for r in _judge(base, n, 1000 * n + 100 * b + s, alpha=0.05)]
            for a in hits:
                hits[a] += min(p) <= a / len(p)  # Holm rejects something iff min p <= a/k
            sims += 1
    for a, k in hits.items():
        assert k / sims <= a + 3 * np.sqrt(a * (1 - a) / sims), (a, k, sims)


@pytest.mark.parametrize("n", [300, 1000])
def test_a_real_drop_in_accuracy_pages(n: int) -> None:
    """15 % of labels flipped: accuracy drops by about 0.08 (power ~0.5 at 300 rows, ~1 at 1000)."""
    base = _reference(3000, 4)
    fired = [
        {r.metric: r.status for r in _judge(base, n, s, alpha=0.002, flip=0.15)} for s in range(30)
    ]
    assert sum(f["accuracy"] == "alert" for f in fired) >= (28 if n == 1000 else 9)


def test_a_small_significant_drop_is_a_warning() -> None:
    base = _reference(20000, 5)
    (acc,) = [r for r in _judge(base, 20000, 6, alpha=0.002, flip=0.04) if r.metric == "accuracy"]
    assert acc.p_value < 1e-6 and 0 < acc.effect_size < 0.05 and acc.status == "warning"


# --- through the signal's context, and bad inputs ------------------------------------------


def test_evaluate_states_every_field() -> None:
    res = _evaluate(_rows(1000, 7))
    assert set(res) == set(CLASSIFICATION_METRICS)
    for r in res.values():
        assert r.status == "ok" and r.correction == "holm" and r.alpha <= 0.002
        assert r.reference_size == 3000 and r.current_size == 1000 and 0 < r.p_value <= 1
    assert res["accuracy"].min_effect == 0.05
    assert res["accuracy"].threshold == pytest.approx(
        res["accuracy"].details["baseline_value"] - 0.05
    )
    bad = _evaluate(_rows(1000, 8, flip=0.2))
    assert bad["accuracy"].status == "alert" and bad["accuracy"].effect_size > 0.1


def test_five_labelled_rows_are_no_data() -> None:
    res = _evaluate(_rows(5, 9, flip=0.9))
    assert {r.status for r in res.values()} == {"no_data"}
    assert "only 5 labelled rows; performance needs at least 100" in res["accuracy"].message


def test_nan_scores_leave_label_metrics_alone_and_are_counted() -> None:
    window = _rows(500, 10)
    window["score"] = window["score"].astype(float)
    window.loc[:9, "score"] = np.nan
    window.loc[10, "score"] = np.inf
    res = _evaluate(window)
    assert res["accuracy"].status == "ok" and res["accuracy"].current_size == 500
    assert res["roc_auc"].status == "ok" and res["roc_auc"].current_size == 489
    assert (
        "11 row(s) with a non-finite score left out of roc_auc and log_loss"
        in res["accuracy"].message
    )
    assert all(np.isfinite(r.value) for r in res.values())


def test_rows_without_a_prediction_are_counted() -> None:
    window = _rows(400, 11).astype({"prediction": float})
    window.loc[:2, "prediction"] = np.nan
    res = _evaluate(window)
    assert res["accuracy"].current_size == 397
    assert "3 labelled row(s) without a prediction left out" in res["accuracy"].message


def test_scores_that_are_not_probabilities_spoil_only_the_score_metrics() -> None:
    window = _rows(300, 12)
    window.loc[0, "score"] = 3.0
    res = _evaluate(window)
    assert {m: r.status for m, r in res.items()} == {
        "accuracy": "ok", "precision": "ok", "recall": "ok", "f1": "ok", "roc_auc": "error", "log_loss": "error",
    }  # fmt: skip
    assert res["roc_auc"].message.startswith(
        "the window's scores cannot be used: scores must be probabilities in [0, 1]"
    )
    assert res["roc_auc"].value is None


def test_no_label_source_and_an_unlabelled_baseline_say_why() -> None:
    baseline = _baseline()
    profile = build_profile([_rows(200, 13)], baseline.window_plan(), threads=1)
    res = evaluate(
        SignalContext(baseline=baseline, window=profile, alphas={"performance": 0.01}), SETTINGS
    )
    assert {r.status for r in res} == {"no_data"} and res[
        0
    ].message == "no label source was given for this run"
    mv = parse_model_version({**MV.model_dump(mode="json"), "target": None})
    unlabelled = create_baseline(mv, _rows(300, 14).drop(columns="target"), seed=0, threads=1)
    context = SignalContext(
        baseline=unlabelled,
        window=profile,
        labelled=_rows(200, 13).rename(columns={"target": LABEL_COLUMN}),
    )
    res = evaluate(context, SETTINGS)
    assert {r.status for r in res} == {"no_data"} and "no labelled reference data" in res[0].message


def test_unknown_metric_names_list_the_options() -> None:
    with pytest.raises(ValueError, match=r"unknown performance metric\(s\) \['auc'\]; choose from"):
        PerformanceSettings(metrics=("auc",))


def _regression_rows(n: int, seed: int, noise: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "x1": x, "prediction": 2 * x, "target": 2 * x + rng.normal(scale=noise, size=n),
        "request_id": [f"{seed}-{i}" for i in range(n)],
        "timestamp": pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
    })  # fmt: skip


def test_regression_drop_in_mae_pages_and_non_finite_rows_are_counted() -> None:
    mv = parse_model_version({
        "name": "reg", "version": "1", "task": "regression", "features": {"x1": "numeric"},
        "target": "target", "prediction": "prediction",
    })  # fmt: skip
    baseline = create_baseline(mv, _regression_rows(2000, 0), seed=0, threads=1)

    def run(window: pd.DataFrame) -> dict:
        profile = build_profile([window.drop(columns="target")], baseline.window_plan(), threads=1)
        labelled = window.rename(columns={"target": LABEL_COLUMN})
        context = SignalContext(
            baseline=baseline, window=profile, labelled=labelled, alphas={"performance": 0.002}
        )
        return {r.metric: r for r in evaluate(context, SETTINGS)}

    window = _regression_rows(500, 1)
    window.loc[0, "prediction"] = np.inf
    ok = run(window)
    assert set(ok) == {"mae", "rmse", "r2"} and {r.status for r in ok.values()} == {"ok"}
    assert (
        ok["mae"].current_size == 499
        and "1 row(s) with a non-finite label or prediction" in ok["mae"].message
    )
    assert ok["mae"].min_effect == pytest.approx(0.1 * ok["mae"].details["baseline_value"])
    worse = run(_regression_rows(500, 2, noise=1.5))
    assert worse["mae"].status == worse["rmse"].status == "alert" and worse["mae"].effect_size > 0.3
