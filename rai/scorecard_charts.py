"""Matplotlib charts of the scorecard, returned as PNG bytes (embedded in HTML and PDF).

Every chart reads only the bundle's stored figures; none computes a statistic.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

PASS_COLOUR, FAIL_COLOUR, NEUTRAL = "#2e7d32", "#c62828", "#1f5f99"


def to_png(figure: Any) -> bytes:
    """PNG bytes of a figure (fixed dpi, no timestamp metadata); closes it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def gate_chart(rows: list[dict[str, Any]]) -> bytes | None:
    """One bar per gate with its measured value and threshold markers."""
    measured = [r for r in rows if r["value"] is not None]
    if not measured:
        return None
    figure, axes = plt.subplots(figsize=(7, 0.5 + 0.45 * len(measured)))
    labels = [r["label"] for r in measured]
    y = np.arange(len(measured))
    axes.barh(
        y,
        [r["value"] for r in measured],
        color=[PASS_COLOUR if r["passed"] else FAIL_COLOUR for r in measured],
    )
    for i, r in enumerate(measured):
        for bound, marker in ((r["min"], "|"), (r["max"], "|")):
            if bound is not None:
                axes.plot([bound], [i], marker=marker, markersize=22, color="black")
    axes.set_yticks(y, labels)
    axes.invert_yaxis()
    axes.set_title("Gates: measured value (bar) and threshold (black mark)")
    return to_png(figure)


def group_chart(table: pd.DataFrame, feature: str, metric: str) -> bytes | None:
    """Per-group metric bars with their 95 % intervals for one sensitive feature."""
    rows = table[(table["sensitive_feature"] == feature) & (table["metric"] == metric)]
    if rows.empty:
        return None
    rows = rows.sort_values("group")
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.4 * len(rows)))
    y = np.arange(len(rows))
    low = (rows["value"] - rows["ci_low"]).clip(lower=0).fillna(0)
    high = (rows["ci_high"] - rows["value"]).clip(lower=0).fillna(0)
    axes.barh(y, rows["value"], xerr=[low, high], color=NEUTRAL, capsize=3)
    axes.set_yticks(y, [f"{g} (n={c})" for g, c in zip(rows["group"], rows["count"], strict=True)])
    axes.invert_yaxis()
    axes.set_title(f"{metric} by {feature} (95% intervals)")
    return to_png(figure)


def interval_chart(
    labels: list[str],
    values: list[float],
    lows: list[float],
    highs: list[float],
    title: str,
    *,
    colours: list[str] | None = None,
    zero_line: bool = True,
) -> bytes | None:
    """Points with interval bars, one per label (importance, causal effects)."""
    if not labels:
        return None
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.4 * len(labels)))
    y = np.arange(len(labels))
    v = np.asarray(values, dtype=float)
    low = np.clip(v - np.asarray(lows, dtype=float), 0, None)
    high = np.clip(np.asarray(highs, dtype=float) - v, 0, None)
    for i in range(len(labels)):
        axes.errorbar(
            v[i],
            y[i],
            xerr=[[np.nan_to_num(low[i])], [np.nan_to_num(high[i])]],
            fmt="o",
            color=(colours or [NEUTRAL] * len(labels))[i],
            capsize=4,
        )
    if zero_line:
        axes.axvline(0, linestyle=":", color="grey")
    axes.set_yticks(y, labels)
    axes.invert_yaxis()
    axes.set_title(title)
    return to_png(figure)


def bar_chart(labels: list[str], values: list[float], title: str) -> bytes | None:
    """Plain horizontal bars (worst cohorts)."""
    if not labels:
        return None
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.4 * len(labels)))
    y = np.arange(len(labels))
    axes.barh(y, values, color=NEUTRAL)
    axes.set_yticks(y, labels)
    axes.invert_yaxis()
    axes.set_title(title)
    return to_png(figure)
