"""Model page, performance and change-detection tabs: one panel per metric with the
estimate and the realised value overlaid; the error rate with the detectors' marks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.charts_performance import (
    detector_events,
    error_rate_figure,
    error_series,
    performance_figure,
    performance_frame,
)
from dashboards.components import empty_state


def performance(results: pd.DataFrame, runs: pd.DataFrame) -> None:
    """One panel per metric: realised and estimated overlaid, bands, threshold; row counts."""
    frame = performance_frame(results)
    if frame.empty:
        empty_state(
            "No performance results yet",
            "Performance needs labels: ingest them with `raiwatch labels ingest` (or the SDK) and add "
            "`performance` to the monitor's signals; before labels arrive, `estimated_performance` "
            "(CBPE) estimates it from calibrated scores.",
        )
        return
    if frame["realised"].notna().sum() == 0:
        st.info("No labels have arrived yet: only the CBPE estimate is drawn.")
    st.caption(
        "Solid: realised (from labels), dotted: estimated (CBPE) with its band; green: the "
        "baseline's interval; dashed red: the alert threshold. Windows without rows are gaps."
    )
    st.plotly_chart(performance_figure(frame, runs), key="performance_panels")


def change_detection(results: pd.DataFrame) -> None:
    """The error rate per window with a mark where each change detector fired."""
    events = detector_events(results)
    errors, label = error_series(results)
    if results[results["signal"] == "concept_drift"].empty:
        empty_state(
            "No change-detector results",
            "Concept drift needs labels and the `concept_drift` signal in the monitor "
            "(DDM, EDDM, ADWIN, Page-Hinkley, KSWIN run over the error stream).",
        )
        return
    if errors.empty:
        st.info("No labelled performance stored: the detections are listed without the error rate.")
    else:
        st.plotly_chart(error_rate_figure(errors, label, events), key="error_rate_chart")
    if events.empty:
        st.success("No detector fired in any stored window.")
        return
    first = events.sort_values("time").iloc[0]
    st.markdown(
        f"**First detection:** {first['detector']} at {first['time']:%Y-%m-%d %H:%M} "
        f"(stream row {first['stream_index']}); {len(events)} detection(s) by "
        f"{events['detector'].nunique()} detector(s)."
    )
    st.dataframe(events, hide_index=True, key="detections")
