"""Model page sections drawn from stored results over time: timelines and quality
(performance and change detection: :mod:`dashboards.views.model_performance`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.charts import signal_timeline
from dashboards.components import empty_state, status_label
from monitor.signals import SIGNALS, signals_on_panel

# Panels come from the signal registry: a new signal shows up without a change here.
TIMELINE_SIGNALS = (*signals_on_panel(SIGNALS, "timeline"), *signals_on_panel(SIGNALS, "drift"))
QUALITY_SIGNALS = signals_on_panel(SIGNALS, "quality")


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
