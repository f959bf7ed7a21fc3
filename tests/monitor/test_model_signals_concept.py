"""Concept drift through ``evaluate_window``: a seeded episode, and detector state across windows.

The episode: four daily windows of the credit world whose inputs all come from the
reference distribution; from day ``K`` on the labels follow the concept-shifted relation.
Only the model signals may notice.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from river import drift

from monitor.signals.concept_drift import default_detectors, run_detectors
from monitor.signals.evaluate import WindowReport, evaluate_window
from monitor.spec.signal_config import SignalConfig
from tests.monitor.test_model_signals_world import credit_baseline, labels_of, logged, scored

DAYS, K = 4, 2
CONFIG = SignalConfig(multivariate_drift={"enabled": False})


def _window(day: int) -> pd.DataFrame:
    return scored(1000, 40 + day, shift=day >= K, prefix=f"d{day}", day=day)


def _labels(window: pd.DataFrame, day: int) -> pd.DataFrame:
    """80 % of the rows are labelled (a seeded choice), plus labels of rows of no window."""
    labelled = window.sample(frac=0.8, random_state=day)
    stray = pd.DataFrame({"request_id": [f"gone-{day}-{i}" for i in range(50)], "label": 0})
    return pd.concat([labels_of(labelled), stray], ignore_index=True)


def _evaluate(day: int, state: dict | None) -> WindowReport:
    window = _window(day)
    return evaluate_window(
        credit_baseline(), [logged(window)], config=CONFIG, labels=_labels(window, day),
        detector_state=state, threads=1,
    )  # fmt: skip


@pytest.fixture(scope="module")
def episode() -> list[WindowReport]:
    reports, state = [], None
    for day in range(DAYS):
        report = _evaluate(day, state)
        # The state goes through JSON between runs, as it does through the store.
        state = json.loads(json.dumps(report.detector_state, allow_nan=False))
        reports.append(report)
    return reports


def _by(report: WindowReport, signal: str) -> dict[str, object]:
    return {r.feature or r.metric: r for r in report.results if r.signal == signal}


def test_data_drift_stays_ok_on_every_feature(episode: list[WindowReport]) -> None:
    for day, report in enumerate(episode):
        features = _by(report, "data_drift")
        assert len(features) == 9
        assert {f: r.status for f, r in features.items()} == dict.fromkeys(features, "ok"), day
        assert _by(report, "dataset_drift")["drift_share"].status == "ok"


def test_nothing_fires_before_the_shift(episode: list[WindowReport]) -> None:
    for report in episode[:K]:
        assert {r.status for r in _by(report, "performance").values()} == {"ok"}
        detectors = _by(report, "concept_drift")
        assert list(detectors) == list(default_detectors("binary"))
        assert {(r.status, r.value) for r in detectors.values()} == {("ok", 0.0)}


def test_the_shift_day_alerts_on_accuracy_and_adwin(episode: list[WindowReport]) -> None:
    report = episode[K]
    accuracy = _by(report, "performance")["accuracy"]
    assert accuracy.status == "alert" and accuracy.value < accuracy.threshold
    adwin = _by(report, "concept_drift")["adwin"]
    assert adwin.status == "alert" and adwin.value >= 1
    (first, *_) = adwin.details["events"]
    assert 0 <= first["index"] < 800
    assert first["timestamp"].startswith("2026-10-03")  # day K
    # CBPE sees only scores and inputs, which did not change: the estimate stays ok.
    assert _by(report, "estimated_performance")["accuracy"].status == "ok"


def _error_stream(days: range) -> tuple[np.ndarray, np.ndarray]:
    """label != prediction over the labelled rows of ``days``, in time order."""
    rows = []
    for day in days:
        window = _window(day)
        labels = _labels(window, day)
        rows.append(window[window["request_id"].isin(labels["request_id"])])
    joined = pd.concat(rows).sort_values("timestamp")
    errors = (joined["default"] != joined["prediction"]).to_numpy(dtype=float)
    return errors, joined["timestamp"].to_numpy()


def test_windows_one_by_one_equal_the_stream_in_one_go(episode: list[WindowReport]) -> None:
    errors, stamps = _error_stream(range(DAYS))
    assert errors.size == 800 * DAYS
    names = default_detectors("binary")
    whole, whole_state = run_detectors(
        errors, stamps, None, detectors=names, seed=credit_baseline().plan.seed
    )

    pieces = [
        {k: e[k] for k in ("detector", "stream_index", "timestamp")}
        for report in episode
        for r in report.results
        if r.signal == "concept_drift"
        for e in r.details["events"]
    ]
    expected = [{k: e[k] for k in ("detector", "stream_index", "timestamp")} for e in whole]
    key = lambda e: (e["stream_index"], e["detector"])  # noqa: E731
    assert sorted(pieces, key=key) == sorted(expected, key=key)
    assert whole_state == json.loads(json.dumps(episode[-1].detector_state))

    # ADWIN's detections are river's own on the same stream.
    adwin, fired = drift.ADWIN(), []
    for i, x in enumerate(errors):
        adwin.update(x)
        if adwin.drift_detected:
            fired.append(i)
    assert fired and [e["stream_index"] for e in expected if e["detector"] == "adwin"] == fired


def test_rerunning_a_window_from_its_checkpoint_is_idempotent(episode: list[WindowReport]) -> None:
    checkpoint = json.loads(json.dumps(episode[K - 1].detector_state))
    before = copy.deepcopy(checkpoint)
    again = _evaluate(K, checkpoint)
    assert checkpoint == before  # the checkpoint is not consumed or changed
    drop_timing = lambda report: {k: v for k, v in report.to_dict().items() if k != "duration_s"}  # noqa: E731
    assert drop_timing(again) == drop_timing(episode[K])
    assert again.detector_state == episode[K].detector_state
