"""Concept-drift detectors: where they fire, and state carried across runs as JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from monitor.errors import DataError
from monitor.signals.concept_drift import (
    DETECTORS,
    concept_drift_signal_results,
    default_detectors,
    run_detectors,
)

CHANGE = 1500
# Largest delay after the change (in errors) at which each detector must have fired.
MAX_DELAY = {"adwin": 200, "ddm": 300, "eddm": 900, "page_hinkley": 450, "kswin": 300}


def _classification_stream(seed: int, change: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    after = 0.35 if change else 0.15
    return np.r_[rng.uniform(size=CHANGE) < 0.15, rng.uniform(size=CHANGE) < after].astype(float)


def _regression_stream(seed: int, change: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.abs(np.r_[rng.normal(0, 1, CHANGE), rng.normal(0, 2 if change else 1, CHANGE)])


def _first_fire(events: list[dict], name: str) -> int | None:
    hits = [e["index"] for e in events if e["detector"] == name]
    return hits[0] if hits else None


@pytest.mark.parametrize("seed", [0, 3])
def test_classification_detectors_fire_after_the_change_only(seed: int) -> None:
    events, _ = run_detectors(_classification_stream(seed), None, None)
    for name in DETECTORS:
        first = _first_fire(events, name)
        assert first is not None, name
        assert CHANGE <= first <= CHANGE + MAX_DELAY[name], (name, first)
    stationary, _ = run_detectors(_classification_stream(seed, change=False), None, None)
    assert stationary == []


@pytest.mark.parametrize("seed", [0, 3])
def test_regression_detectors_fire_after_the_change_only(seed: int) -> None:
    detectors = default_detectors("regression")
    assert detectors == ("adwin", "page_hinkley", "kswin")
    events, _ = run_detectors(_regression_stream(seed), None, None, detectors=detectors)
    for name in detectors:
        first = _first_fire(events, name)
        assert first is not None and CHANGE <= first <= CHANGE + 150, (name, first)
    stationary, _ = run_detectors(_regression_stream(seed, False), None, None, detectors=detectors)
    assert stationary == []


@pytest.mark.parametrize("splits", [[700], [1589, 1590], [1, 1631, 2999]])
def test_restored_detectors_fire_where_the_uninterrupted_ones_do(splits: list[int]) -> None:
    errors = _classification_stream(0)
    whole, whole_state = run_detectors(errors, None, None)
    events, state = [], None
    for chunk in np.split(errors, splits):
        state = json.loads(json.dumps(state))  # stored and read back as JSON
        got, state = run_detectors(chunk, None, state)
        events += got
    key = [(e["detector"], e["stream_index"]) for e in whole]
    assert [(e["detector"], e["stream_index"]) for e in events] == key
    assert state == whole_state


def test_restore_is_exact_for_real_valued_errors_too() -> None:
    errors = _regression_stream(1)
    dets = default_detectors("regression")
    whole, whole_state = run_detectors(errors, None, None, detectors=dets)
    a, state = run_detectors(errors[:1540], None, None, detectors=dets)
    b, state = run_detectors(errors[1540:], None, json.loads(json.dumps(state)), detectors=dets)
    assert [e["stream_index"] for e in a + b] == [e["stream_index"] for e in whole]
    assert state == whole_state


def test_adwin_replay_is_bounded_and_flagged_inexact() -> None:
    errors = _classification_stream(0, change=False)
    _, state = run_detectors(errors, None, None, detectors=("adwin",), max_replay=100)
    assert len(state["detectors"]["adwin"]["replay"]) == 100
    assert state["detectors"]["adwin"]["exact"] is False
    _, state = run_detectors(errors[:50], None, None, detectors=("adwin",), max_replay=100)
    assert state["detectors"]["adwin"]["exact"] is True


def test_events_carry_timestamps_and_state_records_the_last_one() -> None:
    errors = _classification_stream(0)
    ts = pd.date_range("2026-01-01", periods=errors.size, freq="min")
    events, state = run_detectors(
        errors, ts, None, detectors=("ddm",), params={"ddm": {"warm_start": 30}}
    )
    assert events[0]["timestamp"] == ts[events[0]["index"]].tz_localize("UTC").isoformat()
    assert state["last_timestamp"] == "2026-01-03T01:59:00+00:00"
    assert state["detectors"]["ddm"]["params"] == {"warm_start": 30, "drift_threshold": 3.5}
    with pytest.raises(DataError, match="before 2026-01-03T01:59:00\\+00:00, the last time"):
        run_detectors(errors[:10], ts[:10], state, detectors=("ddm",))


def test_invalid_inputs_raise_clear_errors() -> None:
    with pytest.raises(DataError, match=r"unknown detectors \['cusum'\]; choose among"):
        run_detectors([0, 1], None, None, detectors=("cusum",))
    with pytest.raises(DataError, match=r"\['ddm', 'eddm'\] read a 0/1 error stream"):
        run_detectors([0.5, 1.2], None, None)
    with pytest.raises(DataError, match="errors must be finite"):
        run_detectors([0.0, np.nan], None, None, detectors=("adwin",))
    ts = pd.to_datetime(["2026-01-02", "2026-01-01"])
    with pytest.raises(DataError, match="not in time order"):
        run_detectors([0, 1], ts, None)


def test_concept_drift_signal_results() -> None:
    events, _ = run_detectors(_classification_stream(0), None, None)
    res = {r.metric: r for r in concept_drift_signal_results(events, 3000)}
    assert {r.status for r in res.values()} == {"alert"}
    assert res["ddm"].details["events"][0]["index"] == _first_fire(events, "ddm")
    quiet = concept_drift_signal_results([], 3000, ("adwin",))
    assert [(r.status, r.value) for r in quiet] == [("ok", 0.0)]
    empty = concept_drift_signal_results([], 0, ("adwin",))
    assert empty[0].status == "no_data" and "no labels" in empty[0].message


def test_state_of_another_version_is_refused() -> None:
    _, state = run_detectors([0.0, 1.0], None, None, detectors=("adwin",))
    with pytest.raises(DataError, match=r"state version 0 is not 1; .* empty state"):
        run_detectors([0.0], None, {**state, "version": 0}, detectors=("adwin",))
