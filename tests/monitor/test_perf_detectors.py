"""Change detectors: false alarms on stationary streams, delays on drops, exact checkpoints.

Simulations run over many seeds (never one lucky seed). The default CUSUM is calibrated as
``evaluate`` does: anchored to a reference error rate measured on 10,000 rows, a per-window
false-alarm rate ``alpha`` for 1,000 labelled rows a window.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from river import drift

from monitor.errors import DataError
from monitor.signals.concept_drift import (
    CUSUM,
    DETECTORS,
    _rate_arl,
    calibrate_cusum,
    default_detectors,
    run_detectors,
)

DAY = 1000
REFERENCE_ROWS = 10_000
SEEDS = range(24)


def _cusum(task: str, reference: float, *, alpha: float = 0.002, margin: float = 1.0) -> dict:
    return calibrate_cusum(task, round(reference, 4), REFERENCE_ROWS, alpha=alpha, rows_per_window=DAY, margin=margin)


def _reference_rate(rng: np.random.Generator, p: float) -> float:
    return float((rng.uniform(size=REFERENCE_ROWS) < p).mean())


def _fire_rows(errors: np.ndarray, params: dict, detector: str = "cusum") -> list[int]:
    events, _ = run_detectors(errors, None, None, detectors=(detector,), params={detector: params})
    return [e["index"] for e in events]


def _step(seed: int, p: float, drop: float, *, before_days: int = 30, after_days: int = 3) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    reference = _reference_rate(rng, p)
    errors = np.r_[rng.uniform(size=before_days * DAY) < p, rng.uniform(size=after_days * DAY) < p + drop]
    return errors.astype(float), reference


def test_the_default_set_is_the_calibrated_cusum() -> None:
    assert default_detectors("binary") == default_detectors("regression") == ("cusum",)


@pytest.mark.parametrize("p", [0.05, 0.23, 0.4])
def test_the_limit_gives_the_run_length_the_budget_asks_for(p: float) -> None:
    params = _cusum("binary", p, alpha=0.002, margin=0.0)
    assert params["arl_rows"] == DAY / 0.002
    arl = _rate_arl(params["reference"], params["up"], params["down"], params["limit"])
    below = _rate_arl(params["reference"], params["up"], params["down"], params["limit"] - 1)
    assert below < DAY / 0.002 <= arl < 1.01 * DAY / 0.002


@pytest.mark.parametrize("p", [0.05, 0.23, 0.4])
def test_stationary_windows_alert_at_about_alpha(p: float) -> None:
    """alpha = 0.05 a window: measurable in 400 windows; the reference is the true rate here."""
    params = _cusum("binary", p, alpha=0.05, margin=0.0)
    alarmed = 0
    for seed in range(4):
        errors = (np.random.default_rng(seed).uniform(size=100 * DAY) < p).astype(float)
        alarmed += len({i // DAY for i in _fire_rows(errors, params)})
    assert 8 <= alarmed <= 40  # expected 20 in 400 windows


@pytest.mark.parametrize("p", [0.1, 0.23])
def test_at_most_one_false_alarm_per_100_stationary_days(p: float) -> None:
    """At the default budget, with the reference estimated from 10,000 rows, over 24 seeds."""
    alarms = 0
    for seed in SEEDS:
        errors, reference = _step(seed, p, 0.0, before_days=60, after_days=0)
        alarms += len(_fire_rows(errors, _cusum("binary", reference)))
    assert alarms <= 0.5 * len(SEEDS) * 60 / 100  # <= 0.5 per 100 days; expected ~0.1


@pytest.mark.parametrize(("drop", "days"), [(0.15, 1), (0.05, 3)])
def test_accuracy_drops_are_caught_within_the_rule(drop: float, days: int) -> None:
    """-15 points within 1 day, -5 points within 3 days, on every seed, after 30 quiet days."""
    for seed in SEEDS:
        errors, reference = _step(seed, 0.23, drop)
        fired = _fire_rows(errors, _cusum("binary", reference))
        after = [i for i in fired if i >= 30 * DAY]
        assert after and after[0] < (30 + days) * DAY, (seed, after[:1])
        assert len(fired) - len(after) <= 1, seed


def test_regression_cusum_false_alarms_and_delays() -> None:
    """Absolute errors of N(0, 1): quiet for 60 days; a 50 % larger error scale within a day,
    20 % larger within 3 days (the reference RMSE estimated from 10,000 rows)."""
    alarms, delays = 0, {1.5: [], 1.2: []}
    for seed in range(12):
        rng = np.random.default_rng(seed)
        params = _cusum("regression", float(np.sqrt(np.mean(rng.normal(size=REFERENCE_ROWS) ** 2))))
        alarms += len(_fire_rows(np.abs(rng.normal(size=60 * DAY)), params))
        for scale in delays:
            errors = np.abs(np.r_[rng.normal(size=20 * DAY), rng.normal(0, scale, 3 * DAY)])
            after = [i for i in _fire_rows(errors, params) if i >= 20 * DAY]
            delays[scale].append(after[0] - 20 * DAY if after else 10**9)
    assert alarms <= 3  # 720 days
    assert max(delays[1.5]) < DAY and max(delays[1.2]) < 3 * DAY


def _stream(seed: int, regression: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if regression:
        return np.abs(np.r_[rng.normal(0, 1, 4000), rng.normal(0, 1.6, 2000), rng.normal(0, 1, 2000)])
    return np.r_[rng.uniform(size=4000) < 0.2, rng.uniform(size=2000) < 0.45, rng.uniform(size=2000) < 0.2].astype(float)


def _params(regression: bool) -> dict:
    # A generous alpha so that the CUSUM fires often: restarts inside a chunk are exercised.
    return {"cusum": calibrate_cusum("regression" if regression else "binary", 1.0 if regression else 0.2,
                                     REFERENCE_ROWS, alpha=0.3, rows_per_window=200)}  # fmt: skip


@pytest.mark.parametrize("regression", [False, True])
@pytest.mark.parametrize(("detectors", "splittings"), [(("cusum", "adwin"), 30), (DETECTORS, 2)])
def test_checkpointed_detectors_fire_where_one_pass_does(regression: bool, detectors: tuple, splittings: int) -> None:
    """The default CUSUM and ADWIN over 30 random splittings of each stream (every river
    detector over 2): events and final state equal one uninterrupted pass (state via JSON)."""
    detectors = tuple(d for d in detectors if not regression or d not in ("ddm", "eddm"))
    params = _params(regression)
    rng = np.random.default_rng(7)
    for seed in range(3 if splittings > 2 else 1):
        errors = _stream(seed, regression)
        whole, whole_state = run_detectors(errors, None, None, detectors=detectors, params=params)
        assert {e["detector"] for e in whole} >= {"cusum", "adwin"}
        for _ in range(max(splittings // 3, 1)):
            splits = np.sort(rng.choice(np.arange(1, errors.size), size=rng.integers(1, 20), replace=False))
            events, state = [], None
            for chunk in np.split(errors, splits):
                got, state = run_detectors(chunk, None, json.loads(json.dumps(state)), detectors=detectors, params=params)
                events += got
            key = [(e["detector"], e["stream_index"]) for e in whole]
            assert sorted((e["detector"], e["stream_index"]) for e in events) == sorted(key), splits
            assert state == whole_state


def test_restored_adwin_is_rivers_adwin() -> None:
    errors = _stream(1)
    adwin, fired = drift.ADWIN(), []
    for i, x in enumerate(errors):
        adwin.update(x)
        if adwin.drift_detected:
            fired.append(i)
    events, state = [], None
    for chunk in np.array_split(errors, 37):
        got, state = run_detectors(chunk, None, json.loads(json.dumps(state)), detectors=("adwin",))
        events += got
    assert fired and [e["stream_index"] for e in events] == fired


def test_invalid_inputs_raise_clear_errors() -> None:
    with pytest.raises(DataError, match=r"unknown detectors \['cusum2'\]; choose among"):
        run_detectors([0, 1], None, None, detectors=("cusum2",))
    with pytest.raises(DataError, match=r"\['ddm', 'eddm'\] read a 0/1 error stream"):
        run_detectors([0.5, 1.2], None, None, detectors=("ddm", "eddm"))
    with pytest.raises(DataError, match="errors must be finite"):
        run_detectors([0.0, np.nan], None, None, detectors=("adwin",))
    with pytest.raises(DataError, match="needs calibrated parameters"):
        run_detectors([0.0, 1.0], None, None)
    with pytest.raises(DataError, match="calibrated on 0/1 errors"):
        run_detectors([0.5], None, None, params=_params(False))
    with pytest.raises(DataError, match=r"baseline error rate must be in \(0, 1\)"):
        calibrate_cusum("binary", 0.0, 100, alpha=0.01, rows_per_window=100)
    _, state = run_detectors([0.0, 1.0], None, None, detectors=("adwin",))
    with pytest.raises(DataError, match=r"state version 1 is not 2; .* empty state"):
        run_detectors([0.0], None, {**state, "version": 1}, detectors=("adwin",))


@pytest.mark.parametrize("regression", [False, True])
def test_the_vectorised_cusum_is_the_row_by_row_one(regression: bool) -> None:
    params = _params(regression)["cusum"]
    for seed in range(5):
        errors = _stream(seed, regression)
        one, fast = CUSUM(**params), CUSUM(**params)
        rows = []
        for i, x in enumerate(errors):
            one.update(x)
            if one.drift_detected:
                rows.append(i)
        assert rows and fast.fire_rows(errors) == rows
        assert (fast.statistic, fast.drift_detected) == (one.statistic, one.drift_detected)
