"""Performance and change-detection figures (pure functions of stored results).

* :func:`performance_frame` puts the realised value (``performance``), the CBPE
  estimate with its band (``estimated_performance``), the baseline interval and
  the threshold of every metric side by side, one row per (window, metric).
* :func:`performance_figure` draws one panel per metric with the estimate and the
  realised value overlaid, the estimate's band and the baseline interval shaded,
  the threshold labelled, and the window's row counts in a panel of their own.
* :func:`error_rate_figure` draws the error rate per window with the change
  detectors' detections marked where they fired.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards.labels import metric_label

PERF_COLUMNS = [
    "window_end", "metric", "realised", "estimate", "est_low", "est_high",
    "base_low", "base_high", "threshold", "status", "labelled",
]  # fmt: skip
DETECTOR_SYMBOLS = {
    "adwin": "diamond", "ddm": "triangle-up", "eddm": "triangle-down",
    "page_hinkley": "square", "kswin": "x",
}  # fmt: skip


def _details(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def performance_frame(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (window, metric): realised, estimate with band, baseline interval, threshold."""
    realised = results[results["signal"] == "performance"]
    estimated = results[results["signal"] == "estimated_performance"]
    rows: dict[tuple[Any, str], dict[str, Any]] = {}

    def row(window_end: Any, metric: str) -> dict[str, Any]:
        return rows.setdefault(
            (window_end, metric),
            {c: None for c in PERF_COLUMNS} | {"window_end": window_end, "metric": metric},
        )

    for r in realised.itertuples():
        d = _details(r.details)
        out = row(r.window_end, str(r.metric))
        out.update(realised=r.value, base_low=d.get("baseline_low"), base_high=d.get("baseline_high"),
                   threshold=r.threshold, status=r.status, labelled=r.current_size)  # fmt: skip
    for r in estimated.itertuples():
        d = _details(r.details)
        out = row(r.window_end, str(r.metric))
        out.update(estimate=r.value, est_low=d.get("low"), est_high=d.get("high"))
        if out["threshold"] is None:
            out["threshold"] = r.threshold
        if out["status"] is None:
            out["status"] = r.status
    frame = pd.DataFrame(list(rows.values()), columns=PERF_COLUMNS)
    for col in PERF_COLUMNS[2:9]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    order = {m: i for i, m in enumerate(dict.fromkeys(frame["metric"]))}  # as stored
    frame["_order"] = frame["metric"].map(order)
    return (
        frame.sort_values(["_order", "window_end"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _band(fig: go.Figure, x: pd.Series, low: pd.Series, high: pd.Series, *, row: int,
          name: str, colour: str, legend: bool) -> None:  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False,
                             hoverinfo="skip", legendgroup=name), row=row, col=1)  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor=colour, name=name, legendgroup=name, showlegend=legend,
                             hoverinfo="skip"), row=row, col=1)  # fmt: skip


def performance_figure(frame: pd.DataFrame, runs: pd.DataFrame) -> go.Figure:
    """One panel per metric plus a row-count panel (see the module docstring).

    ``runs`` has ``window_end`` and ``row_count``; windows without rows are gaps.
    """
    metrics = list(dict.fromkeys(frame["metric"]))
    titles = [metric_label(m) for m in metrics] + ["rows per window (all / with labels)"]
    fig = make_subplots(rows=len(metrics) + 1, cols=1, shared_xaxes=True,
                        vertical_spacing=0.04, subplot_titles=titles)  # fmt: skip
    for i, metric in enumerate(metrics, start=1):
        m = frame[frame["metric"] == metric]
        first = i == 1
        if m["base_low"].notna().any():
            _band(fig, m["window_end"], m["base_low"], m["base_high"], row=i,
                  name="baseline interval", colour="rgba(44,160,44,0.15)", legend=first)  # fmt: skip
        if m["est_low"].notna().any():
            _band(fig, m["window_end"], m["est_low"], m["est_high"], row=i,
                  name="estimate band (CBPE)", colour="rgba(31,119,180,0.18)", legend=first)  # fmt: skip
        if m["estimate"].notna().any():
            fig.add_trace(go.Scatter(x=m["window_end"], y=m["estimate"], mode="lines+markers",
                                     name="estimated", legendgroup="estimated", showlegend=first,
                                     line={"color": "#1f77b4", "dash": "dot"}), row=i, col=1)  # fmt: skip
        if m["realised"].notna().any():
            colours = ["#d62728" if s == "alert" else "#ff7f0e" if s == "warning" else "#2c2c2c"
                       for s in m["status"]]  # fmt: skip
            fig.add_trace(go.Scatter(x=m["window_end"], y=m["realised"], mode="lines+markers",
                                     name="realised (labels)", legendgroup="realised",
                                     showlegend=first, line={"color": "#2c2c2c"},
                                     marker={"color": colours, "size": 7}), row=i, col=1)  # fmt: skip
        thresholds = m["threshold"].dropna()
        if not thresholds.empty:
            t = float(thresholds.iloc[-1])
            fig.add_hline(y=t, line_dash="dash", line_color="#d62728", row=i, col=1,
                          annotation_text=f"threshold {t:.3g}", annotation_position="top left")  # fmt: skip
    counts = runs.sort_values("window_end")
    rows = counts["row_count"].where(counts["row_count"] > 0)  # no rows: a gap, not a zero
    bottom = len(metrics) + 1
    fig.add_trace(go.Bar(x=counts["window_end"], y=rows, name="rows", marker_color="#c7c7c7"),
                  row=bottom, col=1)  # fmt: skip
    labelled = frame.groupby("window_end")["labelled"].max().dropna()
    fig.add_trace(go.Bar(x=labelled.index, y=labelled.values, name="rows with labels",
                         marker_color="#7f7f7f"), row=bottom, col=1)  # fmt: skip
    fig.update_layout(height=230 * len(metrics) + 220, barmode="overlay", hovermode="x unified",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})  # fmt: skip
    return fig


def error_series(results: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Per window: the model's error (``1 - accuracy`` for classifiers, else MAE) and its name."""
    perf = results[results["signal"] == "performance"]
    for metric, label, transform in (("accuracy", "error rate", lambda v: 1 - v),
                                     ("mae", "mean absolute error", lambda v: v)):  # fmt: skip
        chosen = perf[perf["metric"] == metric]
        if not chosen.empty:
            frame = chosen[["window_start", "window_end", "value"]].copy()
            frame["error"] = transform(pd.to_numeric(frame["value"], errors="coerce"))
            return frame.drop(columns="value").reset_index(drop=True), label
    return pd.DataFrame(columns=["window_start", "window_end", "error"]), "error"


def detector_events(results: pd.DataFrame) -> pd.DataFrame:
    """Every stored detection: window, detector, time, index in the window and in the stream."""
    frame = results[results["signal"] == "concept_drift"]
    rows = [
        {"window_start": r.window_start, "window_end": r.window_end, "detector": r.metric,
         "time": pd.Timestamp(e["timestamp"]) if e.get("timestamp") else r.window_end,
         "index": e.get("index"), "stream_index": e.get("stream_index")}
        for r in frame.itertuples()
        for e in _details(r.details).get("events", [])
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["window_start", "window_end", "detector", "time", "index",
                                       "stream_index"])  # fmt: skip


def error_rate_figure(errors: pd.DataFrame, label: str, events: pd.DataFrame) -> go.Figure:
    """The error per window (drawn over each window) with a mark where each detector fired."""
    fig = go.Figure()
    xs: list[Any] = []
    ys: list[Any] = []
    for r in errors.itertuples():  # a step over [start, end) per window; gaps stay gaps
        xs += [r.window_start, r.window_end, None]
        ys += [r.error, r.error, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=label, line={"color": "#2c2c2c"}))
    if not events.empty:
        level = dict(zip(errors["window_end"], errors["error"], strict=False))
        for detector, group in events.groupby("detector"):
            fig.add_trace(go.Scatter(
                x=group["time"], y=[level.get(w) for w in group["window_end"]], mode="markers",
                name=f"{detector} detection",
                marker={"symbol": DETECTOR_SYMBOLS.get(str(detector), "circle"), "size": 12,
                        "line": {"width": 1, "color": "#d62728"}},
                customdata=group[["stream_index"]],
                hovertemplate="%{x}<br>stream row %{customdata[0]}<extra>" + str(detector) + "</extra>",
            ))  # fmt: skip
        for t in sorted(set(events["time"])):
            fig.add_shape(type="line", x0=t, x1=t, y0=0, y1=1, yref="paper",
                          line={"dash": "dot", "color": "rgba(214,39,40,0.35)"})  # fmt: skip
    fig.update_layout(title=f"{label.capitalize()} per window and change-detector detections",
                      xaxis_title="time", yaxis_title=label, hovermode="closest",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})  # fmt: skip
    return fig
