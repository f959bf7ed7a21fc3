"""Segments on the model page: the segment selector and the segments x signals heatmap."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.charts_segments import ALL_TRAFFIC, segment_heatmap, segment_matrix
from dashboards.components import empty_state


def segments_of(results: pd.DataFrame) -> list[str]:
    """The segments a monitor's results were judged on, sorted (none without ``segments:``)."""
    if "segment" not in results:
        return []
    return sorted(str(s) for s in results["segment"].dropna().unique())


def choose_segment(results: pd.DataFrame) -> str | None:
    """The segment chosen in the sidebar (or the URL's ``segment``); ``None``: all traffic."""
    segments = segments_of(results)
    if not segments:
        return None
    options = [ALL_TRAFFIC, *segments]
    wanted = st.query_params.get("segment", ALL_TRAFFIC)
    chosen = st.sidebar.selectbox(
        "Segment", options, index=options.index(wanted) if wanted in options else 0,
        help="The monitor's `segments:`: every page below shows the chosen segment's results",
    )  # fmt: skip
    if chosen == ALL_TRAFFIC:
        st.query_params.pop("segment", None)
        return None
    st.query_params["segment"] = chosen
    return str(chosen)


def only(results: pd.DataFrame, segment: str | None) -> pd.DataFrame:
    """The results of one segment (``None``: of the whole window)."""
    if "segment" not in results:
        return results
    keep = results["segment"].isna() if segment is None else results["segment"] == segment
    return results[keep].reset_index(drop=True)


def alerting_segments(results: pd.DataFrame, run: pd.Series) -> None:
    """On the whole-traffic view, name the segments in alert in the chosen run (they may be
    the only place a change shows)."""
    if "segment" not in results:
        return
    mine = results[(results["run_id"] == int(run["id"])) & results["segment"].notna()]
    hot = mine[mine["status"] == "alert"]
    if hot.empty:
        return
    parts = []
    for segment, rows in hot.groupby("segment", sort=True):
        what = sorted(
            {
                f"{r.signal}: {r.feature if isinstance(r.feature, str) else r.metric}"
                for r in rows.itertuples()
            }
        )
        parts.append(f"**{segment}** ({', '.join(what)})")
    st.warning(
        "Segments in alert in this window: " + "; ".join(parts) + ". Choose one under *Segment* "
        "in the sidebar, or see the Segments tab."
    )


def heatmap(results: pd.DataFrame, run: pd.Series) -> None:
    """Segments x signals for the chosen run, with the segments too small to judge."""
    segments = segments_of(results)
    if not segments:
        empty_state(
            "This monitor has no segments",
            "Add `segments: [{feature: region}]` (or `{cohorts_from: <RAI bundle>}`) to the monitor "
            "file, rebuild the baseline with `raiwatch baseline create ... --segments monitor.yaml` "
            "and every signal also runs on each segment, inside the same false-alarm budget.",
        )
        return
    mine = results[results["run_id"] == int(run["id"])]
    if mine.empty:
        st.info("The chosen run has no results.")
        return
    matrix = segment_matrix(mine)
    title = f"Segments x signals, {run['window_start']:%Y-%m-%d %H:%M} → {run['window_end']:%Y-%m-%d %H:%M}"
    st.plotly_chart(segment_heatmap(matrix, title=title), key="segment_heatmap")
    st.caption(
        "Each cell is the worst status of a signal in a segment. Segments share the monitor's "
        "false-alarm budget (a Bonferroni share each), so more segments do not mean more false pages."
    )
    cells = mine[mine["segment"].notna() & mine["status"].isin(["alert", "no_data", "error"])]
    if len(cells):
        table = cells[["segment", "signal", "feature", "metric", "value", "status", "message"]]
        st.dataframe(
            table.drop_duplicates(["segment", "signal", "status", "message"]), hide_index=True
        )
