"""Multivariate drift: a flipped correlation with unchanged marginals is caught."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monitor.errors import DataError, NotFittedError
from monitor.signals.multivariate_drift import (
    DomainClassifierDrift,
    PCAReconstructionDrift,
    multivariate_signal_results,
)


def _frame(n: int, seed: int, flip: bool = False) -> pd.DataFrame:
    """a~b and c~d correlated; ``flip`` makes b = -z1 + noise: same marginals, opposite sign."""
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=(2, n))
    e = rng.normal(size=(5, n)) * 0.4
    b = (-z1 if flip else z1) + e[1]
    return pd.DataFrame({"a": z1 + e[0], "b": b, "c": z2 + e[2], "d": z2 + e[3], "e": e[4] * 2.5})


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return _frame(2000, 0)


@pytest.fixture(scope="module")
def domain(baseline: pd.DataFrame) -> DomainClassifierDrift:
    return DomainClassifierDrift(sample_size=400, n_calibration=3, n_splits=3).fit(baseline)


def test_flipped_correlation_is_caught_while_per_feature_ks_is_silent(
    baseline: pd.DataFrame, domain: DomainClassifierDrift
) -> None:
    window = _frame(800, 8, flip=True)
    ks = {c: stats.ks_2samp(baseline[c], window[c]).pvalue for c in baseline}
    assert min(ks.values()) > 0.05, ks  # no marginal moved
    res = domain.check(window)
    assert res.status == "alert" and res.value > 0.85 > res.threshold
    pca = PCAReconstructionDrift().fit(baseline)
    assert pca.components_.shape == (2, 5)  # the two latent factors
    res = pca.check(window)
    assert res.status == "alert" and res.value > 1.3 > res.threshold


def test_same_joint_distribution_is_ok(
    baseline: pd.DataFrame, domain: DomainClassifierDrift
) -> None:
    window = _frame(800, 1)
    res = domain.check(window)
    assert res.status == "ok" and abs(res.value - 0.5) < 0.1
    res = PCAReconstructionDrift().fit(baseline).check(window)
    assert res.status == "ok"
    assert res.details["lower_threshold"] < res.value < res.threshold


def test_domain_classifier_reads_categorical_columns() -> None:
    rng = np.random.default_rng(3)
    base = pd.DataFrame({"x": rng.normal(size=800), "city": rng.choice(["a", "b", "c"], 800)})
    drift = DomainClassifierDrift(sample_size=300, n_calibration=3, n_splits=3)
    drift.fit(base, categorical=("city",))
    moved = pd.DataFrame(
        {"x": rng.normal(size=300), "city": rng.choice(["a", "b", "c"], 300, p=[0.8, 0.1, 0.1])}
    )
    assert drift.check(moved).status == "alert"


def test_pca_state_round_trips_through_json(baseline: pd.DataFrame) -> None:
    pca = PCAReconstructionDrift(n_chunks=5).fit(baseline)
    again = PCAReconstructionDrift.from_dict(json.loads(json.dumps(pca.to_dict())))
    window = _frame(300, 4, flip=True)
    assert again.check(window) == pca.check(window)


def test_errors_are_clear(baseline: pd.DataFrame, domain: DomainClassifierDrift) -> None:
    with pytest.raises(
        DataError, match=r"the window lacks columns \['e'\]; available: \['a', 'b', 'c', 'd'\]"
    ):
        domain.check(baseline.drop(columns="e"))
    with pytest.raises(NotFittedError, match="not fitted; call fit"):
        PCAReconstructionDrift().check(baseline)
    with pytest.raises(DataError, match="needs 2\\+ numeric columns"):
        PCAReconstructionDrift().fit(pd.DataFrame({"a": np.arange(50.0)}))
    tiny = domain.check(baseline.head(4))
    assert tiny.status == "no_data" and "4 rows" in tiny.message


def test_domain_classifier_state_round_trips_and_bad_windows_are_errors(
    baseline: pd.DataFrame, domain: DomainClassifierDrift
) -> None:
    again = DomainClassifierDrift.from_dict(json.loads(json.dumps(domain.to_dict())), baseline)
    window = _frame(300, 5)
    assert again.check(window) == domain.check(window)
    pca = PCAReconstructionDrift().fit(baseline)
    results = multivariate_signal_results(window.drop(columns="a"), [domain, pca])
    assert [(r.metric, r.status) for r in results] == [
        ("domain_classifier_auc", "error"),
        ("pca_reconstruction_error", "error"),
    ]
    assert "lacks columns ['a']" in results[1].message
