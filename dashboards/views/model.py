"""Model page: one model version's signals, drift, quality, performance and runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.components import empty_state, require_store, sources, status_badge, status_label
from dashboards.model_queries import latest_with_data
from dashboards.sources import DashboardSources
from dashboards.traffic import traffic_of, traffic_text
from dashboards.views import (
    model_drift,
    model_performance,
    model_runs,
    model_segments,
    model_signals,
    model_summary,
)
from monitor.signals.results import worst_status


def _choose_version(src: DashboardSources) -> tuple[str, str] | None:
    versions = data.versions(src.db_url)
    if versions.empty:
        empty_state(
            "No model versions registered yet",
            "Register one with `raiwatch model register -f model.yaml` (or run `raiwatch demo`).",
        )
        return None
    keys = [f"{m}:{v}" for m, v in zip(versions["model"], versions["version"], strict=True)]
    wanted = f"{st.query_params.get('model', '')}:{st.query_params.get('version', '')}"
    key = st.sidebar.selectbox(
        "Model version", keys, index=keys.index(wanted) if wanted in keys else 0
    )
    name, _, version = key.partition(":")
    st.query_params["model"], st.query_params["version"] = name, version
    return name, version


def _choose_run(runs: pd.DataFrame) -> pd.Series:
    """The run asked for in the URL, else the newest window *with data* (an empty
    window has nothing to show; the page says how many came after it)."""
    wanted = st.query_params.get("run")
    ids = [int(i) for i in runs["id"]]
    index = (
        ids.index(int(wanted))
        if wanted and wanted.isdigit() and int(wanted) in ids
        else latest_with_data(runs)
    )
    labels = {
        int(
            r.id
        ): f"{r.window_start:%Y-%m-%d %H:%M} → {r.window_end:%Y-%m-%d %H:%M} · {status_label(r.status)}"
        for r in runs.itertuples()
    }
    run_id = st.sidebar.selectbox("Run (window)", ids, index=index, format_func=labels.__getitem__)
    return runs[runs["id"] == run_id].iloc[0]


def _failed_run(run: pd.Series) -> None:
    details = run["details"] if isinstance(run["details"], dict) else {}
    empty_state(
        f"The run of {run['window_start']:%Y-%m-%d %H:%M} → {run['window_end']:%Y-%m-%d %H:%M} failed",
        f"What happened: `{details.get('error', 'no error message was stored')}`.\n\n"
        "Fix the cause (for example an unreadable log file or a missing baseline), then run the "
        "window again with `raiwatch monitor run` or `raiwatch monitor backfill`; re-running "
        "replaces the failed run.",
        kind="error",
    )


def _header(src: DashboardSources, monitor: str, runs: pd.DataFrame, results: pd.DataFrame) -> None:
    """Status from the firing alerts, the newest window with data and the traffic signal
    on the newest window; the windows without traffic after the last one with data."""
    latest = runs.iloc[latest_with_data(runs)]
    states = data.alert_states(src.db_url)
    firing = states[(states["monitor"] == monitor) & (states["state"] == "firing")]
    traffic = traffic_of(results, int(runs["id"].iloc[0]))
    silent = [traffic.status] if traffic is not None and traffic.quiet else []
    status = worst_status([str(latest["status"]), *(["alert"] if len(firing) else []), *silent])
    cols = st.columns(4)
    with cols[0]:
        status_badge(status, prefix="latest: ")
        if len(firing):
            st.caption(f"{len(firing)} alert(s) firing: {', '.join(firing['signal'])}")
    cols[1].metric("Runs", f"{len(runs):,}")
    cols[2].metric("Last window with data (end)", f"{latest['window_end']:%b %d %H:%M}")
    cols[3].metric("Rows (that window)", f"{int(latest['row_count']):,}")
    newer = runs.iloc[: latest_with_data(runs)]
    if traffic is not None and traffic.quiet:
        empty_state(
            f"No traffic: {traffic_text(traffic)}",
            f"The traffic signal is in {traffic.status} (webhook `model.traffic.missing` when it "
            "starts firing); the rest of the status above is that of the last window with data. "
            "Check that the serving code still logs to raiwatch (SDK, `POST /api/v1/models/…/logs` "
            "or the file drop).",
            kind="error" if traffic.status == "alert" else "warning",
        )
    elif traffic is None and len(newer):
        empty_state(
            f"No traffic: the last {len(newer)} window(s) had no rows "
            f"(since {newer['window_start'].min():%Y-%m-%d %H:%M})",
            "The status above is that of the last window with data. Check that the serving code "
            "still logs to raiwatch (SDK, `POST /api/v1/models/…/logs` or the file drop).",
            kind="warning",
        )


def render() -> None:
    """Draw the model page for the version chosen in the sidebar (or in the URL)."""
    src = sources()
    if require_store(src) is None:
        return
    chosen = _choose_version(src)
    if chosen is None:
        return
    name, version = chosen
    st.title(f"{name}:{version}")
    monitors = data.monitors(src.db_url, name, version)
    if not monitors:
        empty_state(
            "No runs yet for this model version",
            "Add a monitor with `raiwatch monitor add -f monitor.yaml` and let `raiwatch serve` run it, "
            f"or evaluate a window now with `raiwatch monitor run -m {name} -v {version} --start … --end …`.",
        )
        return
    wanted = st.query_params.get("monitor")
    monitor = st.sidebar.selectbox(
        "Monitor", monitors, index=monitors.index(wanted) if wanted in monitors else 0
    )
    runs = data.runs(src.db_url, monitor)
    run = _choose_run(runs)
    results = data.results(src.db_url, monitor)
    _header(src, monitor, runs, results)
    if run["status"] == "error":
        _failed_run(run)
    every_segment = results
    segment = model_segments.choose_segment(every_segment)
    results = model_segments.only(every_segment, segment)
    if segment is None:
        model_segments.alerting_segments(every_segment, run)
    else:
        st.info(
            f"Showing segment **{segment}**: its results against its own baseline profile "
            "(distribution overlays show all traffic)."
        )
    model_summary.what_is_wrong(
        name,
        version,
        monitor,
        run,
        results,
        examples=lambda feature: model_drift.quality_examples_of(src, name, version, run, feature),
    )
    tabs = st.tabs(
        ["Signals", "Drift", "Data quality", "Performance", "Change detection", "Runs", "Segments"]
    )
    with tabs[0]:
        model_signals.timelines(results)
    with tabs[1]:
        model_drift.drift_tab(src, name, version, run, results)
    with tabs[2]:
        model_signals.quality(results, int(run["id"]))
    with tabs[3]:
        model_performance.performance(results, runs)
    with tabs[4]:
        model_performance.change_detection(results)
    with tabs[5]:
        model_runs.history(src, monitor, runs)
    with tabs[6]:
        model_segments.heatmap(every_segment, run)
