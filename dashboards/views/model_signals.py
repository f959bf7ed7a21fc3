"""Model page sections drawn from stored results over time: timelines, quality,
performance with label coverage, and change-detector events."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards.charts import signal_timeline
from dashboards.components import empty_state, status_label
from monitor.signals import SIGNALS, signals_on_panel

# Panels come from the signal registry: a new signal shows up without a change here.
TIMELINE_SIGNALS = (*signals_on_panel(SIGNALS, "timeline"), *signals_on_panel(SIGNALS, "drift"))
QUALITY_SIGNALS = signals_on_panel(SIGNALS, "quality")
PERFORMANCE_SIGNALS = signals_on_panel(SIGNALS, "performance")
CHANGE_SIGNALS = signals_on_panel(SIGNALS, "changes")


def _series(frame: pd.DataFrame) -> pd.Series:
    return frame["feature"].fillna(frame["metric"])


def timelines(results: pd.DataFrame) -> None:
    """One chart per drift signal with its thresholds."""
    shown = 0
    for signal in TIMELINE_SIGNALS:
        frame = results[results["signal"] == signal]
        if frame.empty:
            continue
        shown += 1
        frame = frame.assign(series=_series(frame))
        names = sorted(frame["series"].unique())
        if len(names) > 6:
            alerting = sorted(frame.loc[frame["status"] == "alert", "series"].unique())
            names = st.multiselect(
                f"{signal} series", names, default=alerting or names[:5], key=f"series_{signal}"
            )
            frame = frame[frame["series"].isin(names)]
        st.plotly_chart(
            signal_timeline(frame, title=signal, series="series"), key=f"timeline_{signal}"
        )
    if not shown:
        empty_state(
            "No drift results stored yet",
            "The monitor's runs hold no drift signal; check its `signals:` block.",
        )


def quality(results: pd.DataFrame, run_id: int) -> None:
    """Data-quality rates of the chosen run (with status) and one rate over time."""
    frame = results[results["signal"].isin(QUALITY_SIGNALS)]
    if frame.empty:
        empty_state(
            "No data-quality results",
            "Enable the `data_quality` signal in the monitor to see rates here.",
        )
        return
    now = frame[frame["run_id"] == run_id]
    st.subheader("Rates in the chosen run")
    if now.empty:
        st.info("The chosen run has no data-quality results (it may have failed or had no rows).")
    else:
        table = now.pivot_table(index="feature", columns="metric", values="value", aggfunc="first")
        worst = now.groupby("feature")["status"].agg(
            lambda s: max(s, key=["no_data", "ok", "warning", "alert", "error"].index)
        )
        table.insert(0, "status", worst.map(status_label))
        st.dataframe(
            table,
            column_config={
                c: st.column_config.NumberColumn(format="percent")
                for c in table.columns
                if c != "status"
            },
        )
    metric = st.selectbox("Rate over time", sorted(frame["metric"].unique()), key="quality_metric")
    chosen = frame[frame["metric"] == metric]
    st.plotly_chart(signal_timeline(chosen, title=metric), key="timeline_quality")


def performance(results: pd.DataFrame, runs: pd.DataFrame) -> None:
    """Performance and estimated performance over time, with label coverage."""
    frame = results[results["signal"].isin(PERFORMANCE_SIGNALS)]
    if frame.empty:
        empty_state(
            "No performance results yet",
            "Performance needs labels: ingest them with `raiwatch labels ingest` (or the SDK) and add "
            "`performance` to the monitor's signals; before labels arrive, `estimated_performance` "
            "(CBPE) estimates it from calibrated scores.",
        )
        return
    for signal, group in frame.groupby("signal"):
        if group["value"].notna().any():
            st.plotly_chart(
                signal_timeline(group, title=str(signal), series="metric"), key=f"timeline_{signal}"
            )
        else:
            st.info(
                f"`{signal}` has no value yet: {group['message'].dropna().iloc[-1] if group['message'].notna().any() else 'no labels'}"
            )
    labelled = frame[frame["signal"] == "performance"].groupby("run_id")["current_size"].max()
    if labelled.empty:
        return
    coverage = runs.set_index("id")[["window_end", "row_count"]].join(
        labelled.rename("labelled"), how="inner"
    )
    coverage["label coverage"] = coverage["labelled"].fillna(0) / coverage["row_count"].where(
        coverage["row_count"] > 0
    )
    fig = px.line(
        coverage, x="window_end", y="label coverage", markers=True, title="Label coverage"
    )
    fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1.05])
    st.plotly_chart(fig, key="label_coverage")


def change_detection(results: pd.DataFrame) -> None:
    """Events of the streaming change detectors (concept drift)."""
    frame = results[results["signal"].isin(CHANGE_SIGNALS)]
    if frame.empty:
        empty_state(
            "No change-detector results",
            "Concept drift needs labels and the `concept_drift` signal in the monitor "
            "(DDM, EDDM, ADWIN, Page-Hinkley, KSWIN run over the error stream).",
        )
        return
    rows = [
        {"window_end": r.window_end, "detector": r.metric, **event}
        for r in frame.itertuples()
        for event in (r.details or {}).get("events", [])
    ]
    summary = frame.groupby("metric").agg(
        windows=("run_id", "nunique"), alerts=("status", lambda s: int((s == "alert").sum()))
    )
    st.dataframe(summary.rename_axis("detector"))
    if rows:
        st.subheader("Detected changes")
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.success("No detector fired in any stored window.")
