"""Plotly figures for the monitoring pages (pure functions of data frames)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

STATUS_MARKERS: dict[str, str] = {
    "ok": "#2ca02c",
    "warning": "#ff7f0e",
    "alert": "#d62728",
    "error": "#9467bd",
    "no_data": "#7f7f7f",
}
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "hovermode": "x unified"}


def signal_timeline(frame: pd.DataFrame, *, title: str, series: str = "feature") -> go.Figure:
    """Values over windows, one line per ``series`` value, with its threshold drawn.

    ``frame`` has ``window_end``, ``value``, ``threshold``, ``status`` and the
    ``series`` column. A threshold shared by every series is one dashed line;
    per-series thresholds are dashed lines in the series' colour group. Points
    in alert or warning are marked in the status colour.
    """
    fig = go.Figure()
    frame = frame.sort_values("window_end")
    groups = list(frame.groupby(frame[series].fillna("(dataset)"), sort=True))
    thresholds = frame["threshold"].dropna().unique()
    shared = len(thresholds) == 1
    for name, group in groups:
        fig.add_trace(
            go.Scatter(
                x=group["window_end"],
                y=group["value"],
                mode="lines+markers",
                name=str(name),
                legendgroup=str(name),
                marker={
                    "color": [STATUS_MARKERS.get(s, "#7f7f7f") for s in group["status"]],
                    "size": 7,
                },
                customdata=group[["status"]],
                hovertemplate="%{y:.4g} (%{customdata[0]})",
            )
        )
        if not shared and group["threshold"].notna().any():
            fig.add_trace(
                go.Scatter(
                    x=group["window_end"],
                    y=group["threshold"],
                    mode="lines",
                    name=f"{name} threshold",
                    legendgroup=str(name),
                    line={"dash": "dash", "width": 1},
                    showlegend=False,
                )
            )
    if shared:
        fig.add_hline(
            y=float(thresholds[0]),
            line_dash="dash",
            line_color="#d62728",
            annotation_text=f"threshold {thresholds[0]:.3g}",
            annotation_position="top left",
        )
    fig.update_layout(title=title, xaxis_title="window end", yaxis_title="value", **_LAYOUT)
    return fig


def overlay_chart(frame: pd.DataFrame, *, feature: str, numeric: bool) -> go.Figure:
    """Baseline vs window distribution: densities on baseline bins, or category shares."""
    fig = go.Figure()
    if numeric:
        width = frame["right"] - frame["left"]
        centre = (frame["left"] + frame["right"]) / 2
        for side, colour in (("baseline", "#1f77b4"), ("window", "#d62728")):
            density = (frame[side] / width.where(width > 0)).fillna(0.0)
            fig.add_trace(
                go.Bar(
                    x=centre,
                    y=density,
                    width=width,
                    name=side,
                    opacity=0.55,
                    marker_color=colour,
                    customdata=frame[["label", side]],
                    hovertemplate="%{customdata[0]}: %{customdata[1]:.1%}<extra>"
                    + side
                    + "</extra>",
                )
            )
        fig.update_layout(barmode="overlay", yaxis_title="density", xaxis_title=feature)
    else:
        for side, colour in (("baseline", "#1f77b4"), ("window", "#d62728")):
            fig.add_trace(go.Bar(x=frame["label"], y=frame[side], name=side, marker_color=colour))
        fig.update_layout(
            barmode="group", yaxis_title="share", yaxis_tickformat=".0%", xaxis_title=feature
        )
    fig.update_layout(title=f"{feature}: baseline vs window", margin=_LAYOUT["margin"])
    return fig


def latency_chart(attempts: pd.DataFrame) -> go.Figure:
    """Latency of every delivery attempt over time, coloured by outcome."""
    frame = attempts.assign(
        outcome=attempts["status_code"].map(
            lambda c: "no response" if pd.isna(c) else f"HTTP {int(c)}"
        )
    )
    fig = go.Figure()
    for outcome, group in frame.groupby("outcome"):
        fig.add_trace(
            go.Scatter(
                x=group["started_at"],
                y=group["latency_ms"],
                mode="markers",
                name=str(outcome),
                customdata=group[["delivery_id", "attempt"]],
                hovertemplate="delivery %{customdata[0]} attempt %{customdata[1]}: %{y:.0f} ms",
            )
        )
    fig.update_layout(
        title="Delivery attempts: latency", yaxis_title="ms", margin=_LAYOUT["margin"]
    )
    return fig


def alert_timeline(events: pd.DataFrame) -> go.Figure:
    """Firing and resolved events per monitor and signal over time."""
    frame = events.assign(track=events["monitor"] + " · " + events["signal"])
    fig = go.Figure()
    for event, symbol, colour in (
        ("firing", "triangle-up", "#d62728"),
        ("resolved", "circle", "#2ca02c"),
    ):
        group = frame[frame["event"] == event]
        fig.add_trace(
            go.Scatter(
                x=group["window_end"],
                y=group["track"],
                mode="markers",
                name=event,
                marker={"symbol": symbol, "size": 11, "color": colour},
            )
        )
    fig.update_layout(title="Alert history", xaxis_title="window end", margin=_LAYOUT["margin"])
    return fig
