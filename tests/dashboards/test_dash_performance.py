"""Performance panels and the change-detection chart, on results with a known answer
and on the seeded demo under AppTest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dashboards.charts_performance import (
    detector_events,
    error_rate_figure,
    error_series,
    performance_figure,
    performance_frame,
)
from monitor.signals.concept_drift import DETECTORS
from tests.dashboards.apptest import no_exception, run_page, texts

T0 = pd.Timestamp("2026-03-01", tz="UTC")
DAY = pd.Timedelta(days=1)


def _r(
    day: int, signal: str, metric: str, value: float | None, status: str, **details: object
) -> dict:
    return {"run_id": day, "window_start": T0 + day * DAY, "window_end": T0 + (day + 1) * DAY,
            "signal": signal, "feature": None, "metric": metric, "value": value, "threshold": 0.7,
            "status": status, "p_value": None, "reference_size": 100, "current_size": 50,
            "message": None, "details": details}  # fmt: skip


RESULTS = pd.DataFrame([
    _r(0, "performance", "accuracy", 0.8, "ok", baseline_low=0.75, baseline_high=0.85),
    _r(0, "estimated_performance", "accuracy", 0.79, "ok", low=0.74, high=0.84),
    _r(1, "performance", "accuracy", 0.6, "alert", baseline_low=0.75, baseline_high=0.85),
    _r(1, "estimated_performance", "accuracy", 0.78, "ok", low=0.73, high=0.83),
    _r(2, "performance", "accuracy", None, "no_data"),  # an empty window: a gap
    _r(0, "performance", "log_loss", 0.4, "ok", baseline_low=0.35, baseline_high=0.45),
    _r(1, "concept_drift", "ddm", 1.0, "alert",
       events=[{"detector": "ddm", "index": 12, "stream_index": 62,
                "timestamp": "2026-03-02T05:00:00+00:00"}]),
    _r(1, "concept_drift", "adwin", 0.0, "ok", events=[]),
])  # fmt: skip
RUNS = pd.DataFrame(
    {"window_end": [T0 + (d + 1) * DAY for d in range(3)], "row_count": [50, 50, 0]}
)


def test_estimate_and_realised_side_by_side_per_window_and_metric() -> None:
    frame = performance_frame(RESULTS).set_index(["metric", "window_end"])
    day1 = frame.loc[("accuracy", T0 + 2 * DAY)]
    assert (day1["realised"], day1["estimate"], day1["est_low"], day1["est_high"]) == (
        0.6,
        0.78,
        0.73,
        0.83,
    )
    assert (day1["base_low"], day1["base_high"], day1["threshold"]) == (0.75, 0.85, 0.7)
    assert pd.isna(frame.loc[("accuracy", T0 + 3 * DAY), "realised"])  # the gap stays a gap


def test_one_panel_per_metric_and_one_for_counts() -> None:
    fig = performance_figure(performance_frame(RESULTS), RUNS)
    titles = [a.text for a in fig.layout.annotations if not a.text.startswith("threshold")]
    assert titles == ["accuracy", "log loss", "rows per window (all / with labels)"]
    by_axis: dict[str, set[str]] = {}
    for trace in fig.data:
        by_axis.setdefault(trace.yaxis or "y", set()).add(trace.name)
    assert {
        "realised (labels)",
        "estimated",
        "estimate band (CBPE)",
        "baseline interval",
    } <= by_axis["y"]
    assert by_axis["y3"] == {"rows", "rows with labels"}  # counts on their own axis
    rows = next(t for t in fig.data if t.name == "rows")
    assert list(rows.y[:2]) == [50, 50] and pd.isna(rows.y[2])  # no rows: a gap, not a zero
    assert any(a.text == "threshold 0.7" for a in fig.layout.annotations)


def test_error_rate_with_detector_marks() -> None:
    errors, label = error_series(RESULTS)
    assert label == "error rate"
    assert errors["error"].round(6).tolist()[:2] == [0.2, 0.4]
    events = detector_events(RESULTS)
    assert events[["detector", "stream_index"]].values.tolist() == [["ddm", 62]]
    fig = error_rate_figure(errors, label, events)
    [mark] = [t for t in fig.data if t.name == "ddm detection"]
    assert list(mark.x) == [pd.Timestamp("2026-03-02T05:00:00+00:00")]
    assert list(mark.y) == [0.4]  # drawn at the error rate of the window it fired in
    assert len(fig.layout.shapes) == 1


def test_model_page_change_detection_tab(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1", monitor="credit-daily")
    no_exception(at)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [error_chart] = [c for c in charts if "change-detector detections" in json.dumps(c["layout"])]
    marks = [t["name"] for t in error_chart["data"] if t["name"].endswith("detection")]
    assert marks and all(m.split()[0] in DETECTORS for m in marks)
    assert "**First detection:**" in texts(at)
