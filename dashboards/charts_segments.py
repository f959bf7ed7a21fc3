"""The segment heatmap: segments x signals, each cell the worst status of that signal there."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.charts import STATUS_MARKERS
from monitor.signals.results import worst_status

ALL_TRAFFIC = "(all traffic)"
_ORDER = ("no_data", "ok", "warning", "alert", "error")


def segment_matrix(results: pd.DataFrame) -> pd.DataFrame:
    """Worst status per (segment, signal) of one run's results; the whole window first.

    ``results`` has ``segment`` (``None`` for the whole window), ``signal`` and ``status``.
    """
    frame = results.assign(segment=results["segment"].fillna(ALL_TRAFFIC))
    worst = frame.groupby(["segment", "signal"], sort=False)["status"].agg(
        lambda s: worst_status(list(s))
    )
    matrix = worst.unstack("signal")
    segments = [ALL_TRAFFIC] * (ALL_TRAFFIC in matrix.index) + sorted(
        s for s in matrix.index if s != ALL_TRAFFIC
    )
    return matrix.loc[segments]


def segment_heatmap(matrix: pd.DataFrame, *, title: str) -> go.Figure:
    """A heatmap of :func:`segment_matrix`: colour and text are the status (blank: not run)."""
    codes = matrix.apply(
        lambda col: col.map(lambda s: _ORDER.index(s) if isinstance(s, str) else None)
    )
    scale = []
    for i, status in enumerate(_ORDER):  # one flat band of colour per status
        scale += [
            [i / len(_ORDER), STATUS_MARKERS[status]],
            [(i + 1) / len(_ORDER), STATUS_MARKERS[status]],
        ]
    fig = go.Figure(
        go.Heatmap(
            z=codes.to_numpy(dtype=float),
            x=list(matrix.columns),
            y=list(matrix.index),
            text=matrix.fillna("").to_numpy(),
            texttemplate="%{text}",
            colorscale=scale,
            zmin=-0.5,
            zmax=len(_ORDER) - 0.5,
            showscale=False,
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        title=title, margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=120 + 34 * len(matrix),
        yaxis={"autorange": "reversed"},
    )  # fmt: skip
    return fig
