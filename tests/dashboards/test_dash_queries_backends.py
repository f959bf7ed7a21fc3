"""The fleet queries on both store backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboards.queries import drift_sparklines, fleet_overview
from dashboards.sources import read_engine
from monitor.signals.results import SignalResult
from monitor.spec.model_version import parse_model_version
from monitor.store import Store

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_sparklines_are_the_newest_runs_oldest_first(store: Store, db_url: str) -> None:
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "regression", "features": {"x": "numeric"}}
    )
    store.register_model_version(mv)
    shares = [0.1 * i for i in range(8)]
    # saved out of order: the query must order by window, not by insertion
    for day in [3, 0, 7, 1, 5, 2, 6, 4]:
        start = START + dt.timedelta(days=day)
        status = "alert" if shares[day] >= 0.5 else "ok"
        result = SignalResult(
            signal="dataset_drift",
            feature=None,
            metric="drift_share",
            value=shares[day],
            threshold=0.5,
            status=status,
        )
        store.save_run(
            "m-daily", "m", "1", start, start + dt.timedelta(days=1), status, [result], 10, 0.1, {}
        )
    engine = read_engine(db_url)
    try:
        lines = drift_sparklines(engine, runs=5)
        assert list(lines) == ["m-daily"]
        # SQLite aggregates the values as text: equal to ~15 significant digits
        assert lines["m-daily"] == pytest.approx(shares[3:], rel=1e-12)
        fleet = fleet_overview(engine)
        row = fleet.set_index("model").loc["m"]
        assert row["status"] == "alert"  # the newest window (day 7, share 0.7)
        assert row["drift"][-1] == pytest.approx(shares[7], rel=1e-12)
        assert row["in_alert"] == "dataset_drift"
    finally:
        engine.dispose()


def test_windows_without_rows_are_gaps_and_do_not_set_the_status(store: Store, db_url: str) -> None:
    """Two drifted windows, then two without rows: the status stays ``alert`` (the latest
    window *with data*) and the sparkline ends in two gaps on both backends."""
    mv = parse_model_version(
        {"name": "q", "version": "1", "task": "regression", "features": {"x": "numeric"}}
    )
    store.register_model_version(mv)
    for day, rows in enumerate([10, 10, 0, 0]):
        start = START + dt.timedelta(days=day)
        status = "alert" if rows else "no_data"
        value = 0.75 if rows else 0.0  # what evaluate_window stores for an empty window
        result = SignalResult(signal="dataset_drift", feature=None, metric="drift_share", value=value, threshold=0.5, status=status)  # type: ignore[arg-type]
        store.save_run(
            "q-daily",
            "q",
            "1",
            start,
            start + dt.timedelta(days=1),
            status,
            [result],
            rows,
            0.1,
            {},
        )
    engine = read_engine(db_url)
    try:
        assert drift_sparklines(engine)["q-daily"] == [0.75, 0.75, None, None]
        row = fleet_overview(engine).set_index("model").loc["q"]
        assert row["status"] == "alert"
        assert row["rows"] == 10
        assert row["last_data"] == START + dt.timedelta(days=2)
        assert row["quiet"] == "no rows in the last 2 windows (since 2026-03-03 00:00)"
    finally:
        engine.dispose()


def test_overview_reads_the_traffic_signal_of_the_newest_window(store: Store, db_url: str) -> None:
    """One healthy window, then one without rows whose traffic result is a warning: the
    version is ``warning`` (not ``ok``) and ``quiet`` is the signal's own count and start,
    on both backends; a later window with rows clears both."""
    mv = parse_model_version(
        {"name": "t", "version": "1", "task": "regression", "features": {"x": "numeric"}}
    )
    store.register_model_version(mv)

    def traffic(quiet: int, status: str, since: dt.datetime | None) -> SignalResult:
        return SignalResult(
            signal="traffic", metric="windows_without_traffic", value=float(quiet), threshold=3.0,
            status=status, details={"since": since.isoformat() if since else None},  # type: ignore[arg-type]
        )  # fmt: skip

    day = dt.timedelta(days=1)
    store.save_run(
        "t-daily", "t", "1", START, START + day, "ok", [traffic(0, "ok", None)], 10, 0.1, {}
    )
    quiet = START + day
    store.save_run(
        "t-daily",
        "t",
        "1",
        quiet,
        quiet + day,
        "no_data",
        [traffic(1, "warning", quiet)],
        0,
        0.1,
        {},
    )
    engine = read_engine(db_url)
    try:
        row = fleet_overview(engine).set_index("model").loc["t"]
        assert row["status"] == "warning"
        assert (
            row["quiet"]
            == f"no traffic for 1 window in a row (since {quiet:%Y-%m-%d %H:%M}; alerts from 3)"
        )
        back = quiet + day
        store.save_run(
            "t-daily", "t", "1", back, back + day, "ok", [traffic(0, "ok", None)], 10, 0.1, {}
        )
        row = fleet_overview(engine).set_index("model").loc["t"]
        assert row["status"] == "ok" and row["quiet"] == ""
    finally:
        engine.dispose()
