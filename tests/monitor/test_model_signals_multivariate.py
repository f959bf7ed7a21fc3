"""Joint drift through ``evaluate_window``: a correlation flip that no single feature shows.

``x1`` and ``x2`` are standard normal in every window; in the reference their correlation
is +0.9, in the flipped window -0.9. Per-feature drift cannot see it; the baseline's PCA,
whose dropped component is the (x1 - x2) direction, must.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monitor.baseline.reference import Baseline, create_baseline
from monitor.signals.evaluate import WindowReport, evaluate_window
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import SignalConfig

MV = parse_model_version({
    "name": "joint", "version": "1", "task": "binary",
    "features": {"x1": "numeric", "x2": "numeric", "x3": "numeric"},
    "prediction": "prediction", "scores": ["score"], "classes": ["0", "1"],
})  # fmt: skip
CONFIG = SignalConfig(data_quality={"enabled": False}, concept_drift={"enabled": False})


def _rows(n: int, seed: int, rho: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], size=n)
    score = 1 / (1 + np.exp(-rng.normal(size=n)))
    return pd.DataFrame({
        "x1": x[:, 0], "x2": x[:, 1], "x3": rng.normal(size=n),
        "score": score, "prediction": (score >= 0.5).astype(int),
        "request_id": [f"{seed}-{i}" for i in range(n)],
        "timestamp": pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
    })  # fmt: skip


@functools.cache
def _baseline() -> Baseline:
    return create_baseline(MV, _rows(3000, 0, 0.9), seed=0, threads=1)


def _evaluate(window: pd.DataFrame) -> WindowReport:
    return evaluate_window(_baseline(), [window], config=CONFIG, threads=1)


def test_a_correlation_flip_alerts_multivariate_but_not_data_drift() -> None:
    window = _rows(1000, 1, -0.9)
    assert stats.pearsonr(window["x1"], window["x2"]).statistic < -0.85
    report = _evaluate(window)

    data = {r.feature: r for r in report.results if r.signal == "data_drift"}
    assert {f: r.status for f, r in data.items()} == {"x1": "ok", "x2": "ok", "x3": "ok"}
    (pca,) = [r for r in report.results if r.signal == "multivariate_drift"]
    assert pca.metric == "pca_reconstruction_error" and pca.status == "alert"
    assert pca.value > 3 * pca.threshold  # not a near miss
    assert pca.current_size == 1000 and pca.details["components"] == 2


@pytest.mark.parametrize("seed", [2, 3])
def test_the_same_joint_distribution_stays_ok(seed: int) -> None:
    (pca,) = [
        r for r in _evaluate(_rows(1000, seed, 0.9)).results if r.signal == "multivariate_drift"
    ]
    assert pca.status == "ok" and pca.value <= pca.threshold
