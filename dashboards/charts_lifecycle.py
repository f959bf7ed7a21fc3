"""Plotly figure of the champion/challenger comparison over windows (a pure function)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

VERDICT_COLOURS = {"better": "#2ca02c", "worse": "#d62728", "undecided": "#7f7f7f"}


def paired_difference(frame: pd.DataFrame, *, title: str) -> go.Figure:
    """Accuracy difference (challenger - champion) per window with its anytime-valid interval.

    ``frame`` has ``window_end``, ``difference``, ``low``, ``high`` and ``verdict``
    (:func:`dashboards.lifecycle_queries.comparison`). Markers take the verdict's colour.
    """
    frame = frame.sort_values("window_end")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["window_end"], y=frame["high"], mode="lines", line={"width": 0},
                             showlegend=False, hoverinfo="skip"))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=frame["window_end"], y=frame["low"], mode="lines", line={"width": 0}, fill="tonexty",
        fillcolor="rgba(31,119,180,0.18)", name="interval (anytime-valid)",
    ))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=frame["window_end"], y=frame["difference"], mode="lines+markers", name="challenger - champion",
        marker={"size": 9, "color": [VERDICT_COLOURS.get(str(v), "#7f7f7f") for v in frame["verdict"]]},
        line={"color": "#1f77b4"}, text=frame["verdict"], hovertemplate="%{y:+.4f} (%{text})<extra></extra>",
    ))  # fmt: skip
    fig.add_hline(y=0.0, line_dash="dash", line_color="#444", annotation_text="no difference")
    fig.update_layout(title=title, yaxis_title="accuracy difference", margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      hovermode="x unified")  # fmt: skip
    return fig
