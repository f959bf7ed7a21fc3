"""Runs are idempotent per (monitor, window) and keep their results exactly."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import NotFoundError
from monitor.signals.results import SignalResult
from monitor.store import Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _results(value: float) -> list[SignalResult]:
    return [
        SignalResult(signal="data_drift", feature="age", metric="wasserstein", value=value, threshold=0.1, status="alert" if value >= 0.1 else "ok", reference_size=1000, current_size=50, details={"bins": [1, 2]}),
        SignalResult(signal="data_quality", feature=None, metric="null_rate", value=math.nan, threshold=0.05, status="error", message="boom"),
    ]  # fmt: skip


def _save(store: Store, value: float, start: datetime = T0, monitor: str = "m1") -> int:
    return store.save_run(
        monitor, "credit", "1", start, start + timedelta(hours=1), "alert",
        _results(value), 50, 0.25, {"seed": 7},
    )  # fmt: skip


def test_run_round_trips_results(store: Store) -> None:
    run_id = _save(store, 0.3)
    run = store.get_run(run_id)
    assert run.window_start == T0 and run.window_end == T0 + timedelta(hours=1)
    assert run.window_start.tzinfo is not None
    assert run.details == {"seed": 7} and run.row_count == 50 and run.executions == 1
    assert run.results[0] == _results(0.3)[0]
    assert run.results[1].value is None  # NaN is stored as None, status says why
    assert run.results[1].status == "error" and run.results[1].message == "boom"


def test_rerun_of_a_window_replaces_results(store: Store) -> None:
    first = _save(store, 0.3)
    again = _save(store, 0.01)
    assert again == first
    run = store.get_run(first)
    assert run.executions == 2
    assert [r.value for r in run.results] == [0.01, None]
    assert store.count_runs("m1") == 1


def test_list_runs_filters_and_orders(store: Store) -> None:
    for i in range(3):
        _save(store, 0.0, T0 + timedelta(hours=i))
    _save(store, 0.0, T0, monitor="other")
    runs = store.list_runs(monitor="m1")
    assert [r.window_start for r in runs] == [T0 + timedelta(hours=i) for i in (2, 1, 0)]
    assert runs[0].results == ()
    assert len(store.list_runs(name="credit", version="1", limit=2)) == 2
    assert store.list_runs(version="2") == []
    assert len(store.list_runs(monitor="m1", since=T0 + timedelta(hours=1))) == 2


def test_naive_datetimes_are_taken_as_utc(store: Store) -> None:
    run_id = _save(store, 0.0, datetime(2024, 3, 1))
    assert _save(store, 0.0, T0) == run_id


def test_bad_window_and_unknown_run(store: Store) -> None:
    with pytest.raises(ValueError, match=r"must be after window_start"):
        store.save_run("m1", "credit", "1", T0, T0, "ok", [], 0, 0.0, {})
    with pytest.raises(NotFoundError, match="run 999 does not exist"):
        store.get_run(999)
