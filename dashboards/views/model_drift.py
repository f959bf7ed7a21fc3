"""Model page, drift tab: the per-feature drift table of a run and the
baseline-vs-window distribution of a chosen feature."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.charts import overlay_chart
from dashboards.components import empty_state, status_label
from dashboards.distributions import (
    out_of_range_share,
    overlay_frame,
    quality_examples,
    sparkline_bars,
)
from dashboards.labels import format_value, metric_label
from dashboards.model_queries import model_spec
from dashboards.sources import DashboardSources
from dashboards.whats_wrong import sort_by_severity
from monitor.signals import SIGNALS, signals_on_panel

DRIFT_SIGNALS = signals_on_panel(SIGNALS, "drift")
BARS_HELP = (
    "Share of values per bin (numeric: equal-width bins over the baseline's range, plus bins "
    "below/above it when the window leaves it) or per category, baseline and window on one "
    "scale (the tallest bar of the feature = 1); from the stored profiles, no raw rows"
)


def drift_table(results: pd.DataFrame, run_id: int) -> pd.DataFrame:
    """Drift results of one run, most severe first (alert, then warning, then ok; within a
    status the furthest past its threshold first): feature, the baseline's and the
    window's distribution as bars on one scale (from the histogram stored with the
    result), signal, metric (readable), value, threshold, how far past it, status,
    p-value, window rows, note."""
    frame = results[(results["run_id"] == run_id) & results["signal"].isin(DRIFT_SIGNALS)]
    frame = sort_by_severity(frame)
    bars = [sparkline_bars(d) for d in frame["details"]]
    return frame.assign(
        measure=frame["metric"].map(metric_label),
        message=frame["message"].fillna(""),
        baseline_bars=[b for b, _ in bars],
        window_bars=[w for _, w in bars],
    )[
        [
            "feature",
            "baseline_bars",
            "window_bars",
            "signal",
            "measure",
            "value",
            "threshold",
            "severity",
            "status",
            "p_value",
            "current_size",
            "message",
            "metric",
        ]
    ].reset_index(drop=True)


def drift_tab(
    src: DashboardSources, name: str, version: str, run: pd.Series, results: pd.DataFrame
) -> None:
    """Draw the drift table and the distribution overlay for ``run``."""
    if run["status"] == "no_data":
        empty_state(
            "This window had no rows",
            "Nothing was evaluated; choose a window with data in the sidebar (the page opens on "
            "the latest one).",
        )
        return
    table = drift_table(results, int(run["id"]))
    if table.empty:
        empty_state(
            "This run has no drift results",
            "A failed run or a window without rows stores none; choose another run in the sidebar.",
        )
        return
    alerting = table[table["status"] == "alert"]
    inputs = alerting.loc[alerting["signal"] == "data_drift", "feature"].dropna().tolist()
    outputs = alerting.loc[alerting["signal"] == "prediction_drift", "feature"].dropna().tolist()
    in_alert = inputs + outputs
    st.markdown(
        f"**Drifted in this window:** {', '.join(inputs) if inputs else 'none'}"
        + (f" · **prediction drift:** {', '.join(outputs)}" if outputs else "")
    )
    st.dataframe(
        table.assign(status=table["status"].map(status_label)),
        hide_index=True,
        key="drift_table",
        column_order=[c for c in table.columns if c != "metric"],
        column_config={
            "value": st.column_config.NumberColumn(format="%.4f"),
            "threshold": st.column_config.NumberColumn(format="%.4f"),
            "severity": st.column_config.NumberColumn(
                "× threshold", format="%.2f", help="how far past its threshold (1 = at it)"
            ),
            "baseline_bars": st.column_config.BarChartColumn(
                "baseline", y_min=0.0, y_max=1.0, help=BARS_HELP
            ),
            "window_bars": st.column_config.BarChartColumn(
                "this window", y_min=0.0, y_max=1.0, help=BARS_HELP
            ),
            "message": st.column_config.TextColumn("note"),
            "p_value": st.column_config.NumberColumn("p-value", format="%.4g"),
            "current_size": st.column_config.NumberColumn("window rows", format="%d"),
        },
    )
    features = table["feature"].dropna().tolist()
    default = features.index(in_alert[0]) if in_alert else 0
    feature = st.selectbox("Distribution of", features, index=default, key="overlay_feature")
    _overlay(src, name, version, run, feature, table)


def _overlay(
    src: DashboardSources,
    name: str,
    version: str,
    run: pd.Series,
    feature: str,
    table: pd.DataFrame,
) -> None:
    hist = data.baseline_histogram(src.db_url, name, version, feature)
    if hist is None:
        empty_state(
            f"No baseline histogram for {feature}",
            f"The active baseline of {name}:{version} has no profile of this column; rebuild it with "
            "`raiwatch baseline create`.",
        )
        return
    spec = model_spec(data.engine_for(src.db_url), name, version)
    values = (
        data.window_values(
            str(src.home),
            spec or {},
            run["window_start"].to_pydatetime(),
            run["window_end"].to_pydatetime(),
            feature,
        )
        if spec
        else []
    )
    if not values:
        empty_state(
            f"The window's rows of {feature} are not in the log store",
            f"Nothing was found under {src.home}/logs for this window (the logs may have been "
            "compacted away or the run read another source). The stored drift value above still holds.",
        )
        return
    frame = overlay_frame(hist, values)
    st.plotly_chart(
        overlay_chart(frame, feature=feature, numeric=hist.kind == "numeric"), key="overlay_chart"
    )
    row = table[table["feature"] == feature].iloc[0]
    note = (
        f"stored {row['measure']} = {format_value(row['metric'], row['value'])} "
        f"(threshold {format_value(row['metric'], row['threshold'])}, {row['status']})"
    )
    outside = out_of_range_share(hist, values)
    st.caption(
        f"{len(values):,} window rows · {note}"
        + (f" · {outside:.1%} outside the baseline range" if outside else "")
    )


def quality_examples_of(
    src: DashboardSources, name: str, version: str, run: pd.Series, feature: str
) -> str | None:
    """New categories or out-of-range values of ``feature`` in ``run``'s window (read from
    the log store and the baseline, never recomputed as a result)."""
    hist = data.baseline_histogram(src.db_url, name, version, feature)
    spec = model_spec(data.engine_for(src.db_url), name, version)
    if hist is None or spec is None:
        return None
    values = data.window_values(
        str(src.home),
        spec,
        run["window_start"].to_pydatetime(),
        run["window_end"].to_pydatetime(),
        feature,
    )
    return quality_examples(hist, values)
