"""Concept drift through ``evaluate(context, settings)``: a seeded episode, state carried in ``carry``.

The episode: four daily windows of the credit world whose inputs all come from the
reference distribution; from day ``K`` on the labels follow the concept-shifted relation
(the error rate goes from about 0.27 to 0.43). 80 % of each day's rows are labelled.
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from monitor.baseline.reference import Baseline
from monitor.signals.base import SignalContext
from monitor.signals.concept_drift import (
    ConceptDriftSettings,
    calibrate_cusum,
    default_detectors,
    error_stream,
    evaluate,
    run_detectors,
)
from monitor.signals.results import SignalResult
from tests.monitor.test_model_signals_world import credit_baseline, scored

DAYS, K = 4, 2
ALPHA = 0.002
SETTINGS = ConceptDriftSettings()


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    return credit_baseline()


def _labelled(day: int) -> pd.DataFrame:
    window = scored(1000, 40 + day, shift=day >= K, prefix=f"d{day}", day=day)
    return window.sample(frac=0.8, random_state=day).rename(columns={"default": "label"})


def _context(
    baseline: Baseline, labelled: pd.DataFrame | None, carry: dict, alpha: float = ALPHA
) -> SignalContext:
    return SignalContext(
        baseline=baseline,
        window=baseline.profile,
        labelled=labelled,
        alphas={"concept_drift": alpha},
        carry=carry,
    )


@pytest.fixture(scope="module")
def episode(baseline: Baseline) -> list[tuple[list[SignalResult], dict]]:
    out, carry = [], {}
    for day in range(DAYS):
        # The state goes through JSON between windows, as it does through the store.
        carry = {"concept_drift": json.loads(json.dumps(carry.get("concept_drift")))}
        results = evaluate(_context(baseline, _labelled(day), carry), SETTINGS)
        out.append((results, copy.deepcopy(carry)))
    return out


def test_nothing_fires_before_the_shift(episode: list) -> None:
    for results, _ in episode[:K]:
        assert [r.metric for r in results] == list(default_detectors("binary")) == ["cusum"]
        assert [(r.status, r.value) for r in results] == [("ok", 0.0)]


def test_the_shift_day_alerts_with_its_evidence(episode: list) -> None:
    (cusum,), _ = episode[K]
    assert cusum.status == "alert" and cusum.value >= 1
    first = cusum.details["events"][0]
    assert 0 <= first["index"] < 800 and first["timestamp"].startswith("2026-10-03")  # day K
    assert cusum.alpha == pytest.approx(ALPHA)  # 800 rows a window, as the stream started
    assert cusum.correction == "none" and cusum.reference_size == 3000 and cusum.current_size == 800
    assert cusum.effect_size > 0.1 and cusum.min_effect == pytest.approx(
        SETTINGS.min_error_rate_increase
    )
    assert cusum.threshold > 0 and cusum.statistic is not None


def test_windows_one_by_one_equal_the_stream_in_one_go(episode: list, baseline: Baseline) -> None:
    frames = [_labelled(day).sort_values("timestamp", kind="mergesort") for day in range(DAYS)]
    joined = pd.concat(frames)
    errors = error_stream("binary", joined, "prediction")
    params = {"cusum": episode[0][1]["concept_drift"]["detectors"]["cusum"]["params"]}
    whole, state = run_detectors(errors, joined["timestamp"].to_numpy(), None, params=params)
    pieces = [e for results, _ in episode for r in results for e in r.details["events"]]
    keep = ("detector", "stream_index", "timestamp")
    assert [{k: e[k] for k in keep} for e in pieces] == [{k: e[k] for k in keep} for e in whole]
    assert state == episode[-1][1]["concept_drift"]


def test_rerunning_a_window_from_its_checkpoint_is_idempotent(
    episode: list, baseline: Baseline
) -> None:
    checkpoint = json.loads(json.dumps(episode[K - 1][1]))
    before = copy.deepcopy(checkpoint)
    carry = copy.deepcopy(checkpoint)
    again = evaluate(_context(baseline, _labelled(K), carry), SETTINGS)
    assert checkpoint == before and again == episode[K][0] and carry == episode[K][1]


def test_missing_labels_are_no_data_with_the_reason(baseline: Baseline) -> None:
    carry = {"concept_drift": {"kept": True}}
    none = evaluate(_context(baseline, None, carry), SETTINGS)
    empty = evaluate(_context(baseline, _labelled(0).iloc[:0], carry), SETTINGS)
    assert [(r.status, r.message) for r in none] == [
        ("no_data", "no label source was given for this run")
    ]
    assert [(r.status, r.message) for r in empty] == [
        ("no_data", "no labels have arrived for this window yet")
    ]
    # A window without labels does not move the stream.
    assert carry == {"concept_drift": {"kept": True}}


def test_an_unusable_state_is_an_error_and_the_stream_restarts(baseline: Baseline) -> None:
    carry = {"concept_drift": {"version": 1, "detectors": {}}}
    (res,) = evaluate(_context(baseline, _labelled(0), carry), SETTINGS)
    assert res.status == "error" and "state version 1 is not 2" in res.message
    assert res.message.endswith("the detectors restart from the next window on")
    assert carry["concept_drift"] is None
    (res,) = evaluate(_context(baseline, _labelled(1), carry), SETTINGS)
    assert res.status == "ok" and carry["concept_drift"]["n_seen"] == 800


def test_a_baseline_without_reference_performance_is_no_data_saying_why(
    baseline: Baseline,
) -> None:
    # Not a failed run: the CUSUM has no error rate to be anchored to until the baseline has one.
    bare = copy.copy(baseline)
    bare.performance = {"performance": {"error": "no labels in the reference"}}
    carry: dict = {}
    (res,) = evaluate(_context(bare, _labelled(0), carry), SETTINGS)
    assert (res.status, res.metric, res.current_size) == ("no_data", "cusum", 800)
    assert res.message == (
        "no labels in the reference (the cusum is anchored to the baseline's error rate)"
    )
    assert carry == {}  # nothing fed
    # A river detector needs no reference: it still runs, on the whole budget.
    both = evaluate(
        _context(bare, _labelled(0), carry), ConceptDriftSettings(detectors=("cusum", "adwin"))
    )
    assert [(r.metric, r.status) for r in both] == [("cusum", "no_data"), ("adwin", "ok")]
    assert set(carry["concept_drift"]["detectors"]) == {"adwin"}


def test_several_detectors_split_the_budget(baseline: Baseline) -> None:
    settings = ConceptDriftSettings(detectors=("cusum", "adwin"))
    carry: dict = {}
    results = evaluate(_context(baseline, _labelled(0), carry), settings)
    assert [r.metric for r in results] == ["cusum", "adwin"]
    assert results[0].alpha == pytest.approx(ALPHA / 2) and results[0].correction == "bonferroni"
    assert set(carry["concept_drift"]["detectors"]) == {"cusum", "adwin"}
    with pytest.raises(ValidationError):
        ConceptDriftSettings(detectors=("cusum2",))


def test_no_budget_share_means_warnings_not_alerts(baseline: Baseline) -> None:
    carry: dict = {}
    for day in range(DAYS):
        (res,) = evaluate(_context(baseline, _labelled(day), carry, alpha=0.0), SETTINGS)
    assert res.status in ("ok", "warning") and res.status != "alert"


def test_regression_reads_absolute_errors() -> None:
    mv = SimpleNamespace(task="regression", prediction="prediction", timestamp_column="timestamp")
    perf = {"performance": {"n": 10_000, "metrics": {"rmse": {"value": 1.0}}}}
    fake = SimpleNamespace(
        model_version=mv, performance=perf, profile=None, plan=SimpleNamespace(seed=0)
    )
    rng = np.random.default_rng(0)
    carry: dict = {}
    statuses = []
    for day, scale in enumerate([1.0, 1.0, 1.0, 1.6]):
        stamps = pd.date_range(f"2026-01-0{day + 1}", periods=1000, freq="min", tz="UTC")
        frame = pd.DataFrame(
            {"timestamp": stamps, "prediction": 0.0, "label": rng.normal(0, scale, 1000)}
        )
        alphas = {"concept_drift": ALPHA}
        ctx = SignalContext(baseline=fake, window=None, labelled=frame, alphas=alphas, carry=carry)  # type: ignore[arg-type]
        (res,) = evaluate(ctx, SETTINGS)
        statuses.append(res.status)
    assert statuses == ["ok", "ok", "ok", "alert"]
    assert res.effect_size == pytest.approx(0.6, abs=0.1)  # the error scale rose 60 %
    assert carry["concept_drift"]["detectors"]["cusum"]["params"] == calibrate_cusum(
        "regression", 1.0, 10_000, alpha=ALPHA, rows_per_window=1000, shift=0.2
    )
