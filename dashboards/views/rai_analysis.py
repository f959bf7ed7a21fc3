"""RAI review tabs: fairness, error analysis and explanations."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from rai.bundle import InsightsBundle
from rai.results import ComponentResult


def _gate_limit(bundle: InsightsBundle, metric: str, feature: str) -> float | None:
    for v in bundle.gate_verdicts():
        if v.gate.metric == metric and v.gate.sensitive_feature in (None, feature):
            return v.gate.max if v.gate.max is not None else v.gate.min
    return None


def fairness(bundle: InsightsBundle, result: ComponentResult) -> None:
    """Group metric table, disparity chart with the gate line, intersections."""
    groups = result.tables.get("group_metrics", pd.DataFrame())
    features = result.summary.get("features", {})
    feature = st.selectbox(
        "Sensitive feature", sorted(groups["sensitive_feature"].unique()), key="fair_feature"
    )
    mine = groups[groups["sensitive_feature"] == feature]
    st.dataframe(
        mine.pivot_table(index="group", columns="metric", values="value"), key="group_metrics"
    )
    aggregates = features.get(feature, {}).get("aggregates", {})
    intervals = features.get(feature, {}).get("aggregate_intervals", {})
    diffs = {k: v for k, v in aggregates.items() if k.endswith("_difference") and v is not None}
    if diffs:
        frame = pd.DataFrame({"disparity": list(diffs), "value": list(diffs.values())})
        err = [
            [v if b is None else b for b in intervals.get(k, [v, v])] for k, v in diffs.items()
        ]
        fig = go.Figure(
            go.Bar(
                x=frame["disparity"],
                y=frame["value"],
                name="difference",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [hi - v for (lo, hi), v in zip(err, frame["value"], strict=True)],
                    "arrayminus": [v - lo for (lo, hi), v in zip(err, frame["value"], strict=True)],
                },
            )
        )
        limit = _gate_limit(bundle, "demographic_parity_difference", feature)
        if limit is not None:
            fig.add_hline(
                y=limit, line_dash="dash", line_color="#d62728", annotation_text=f"gate {limit:g}"
            )
        fig.update_layout(
            title=f"Disparities across {feature} (95% intervals, simultaneous over group pairs)"
        )
        st.plotly_chart(fig, key="disparity_chart")
        p_values = features.get(feature, {}).get("p_values", {})
        if p_values:
            st.caption(
                "Permutation test of no disparity (H0: the sensitive feature is independent of "
                "label and prediction)"
            )
            st.dataframe(
                pd.DataFrame({"disparity": list(p_values), "p_value": list(p_values.values())}),
                hide_index=True,
                key="disparity_p_values",
            )
    metric = st.selectbox("Group metric", sorted(mine["metric"].unique()), key="fair_metric")
    chosen = mine[mine["metric"] == metric]
    fig = px.bar(
        chosen,
        x="group",
        y="value",
        error_y=chosen["ci_high"] - chosen["value"],
        error_y_minus=chosen["value"] - chosen["ci_low"],
        title=f"{metric} by {feature}",
    )
    st.plotly_chart(fig, key="group_chart")
    crossed = [f for f in groups["sensitive_feature"].unique() if " & " in str(f) or "×" in str(f)]
    if crossed:
        st.subheader("Intersections")
        st.dataframe(
            groups[groups["sensitive_feature"].isin(crossed)], hide_index=True, key="intersections"
        )
    else:
        st.caption(
            "No intersections in this bundle (declare two or more sensitive features to get them)."
        )


def error_analysis(bundle: InsightsBundle, result: ComponentResult) -> None:
    """Cohorts with error rate and coverage, a chosen cohort's figures, and the heatmap."""
    summary = result.summary
    st.metric("Overall error rate", f"{summary.get('overall_error_rate', float('nan')):.1%}")
    surrogate = summary.get("surrogate") or {}
    if surrogate:
        st.caption(
            f"{surrogate.get('kind')} · fidelity {surrogate.get('fidelity', float('nan')):.3f} ({surrogate.get('fidelity_metric')})"
        )
    cohorts = result.tables.get("cohorts", pd.DataFrame()).sort_values(
        "error_rate", ascending=False
    )
    event = st.dataframe(
        cohorts,
        hide_index=True,
        key="cohorts",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "error_rate": st.column_config.ProgressColumn(
                "error rate", format="percent", min_value=0.0, max_value=1.0
            ),
            "error_coverage": st.column_config.ProgressColumn(
                "error coverage", format="percent", min_value=0.0, max_value=1.0
            ),
        },
    )
    rows = getattr(getattr(event, "selection", None), "rows", [])
    cohort = cohorts.iloc[rows[0]] if rows else cohorts.iloc[0]
    st.markdown(f"**Cohort** `{cohort['filter']}`")
    a, b, c = st.columns(3)
    a.metric("Rows", f"{int(cohort['size']):,}")
    b.metric(
        "Error rate",
        f"{cohort['error_rate']:.1%}",
        f"{cohort['error_rate'] - summary.get('overall_error_rate', 0):+.1%} vs overall",
        delta_color="inverse",
    )
    c.metric("Share of all errors", f"{cohort['error_coverage']:.1%}")
    heat = result.tables.get("heatmap")
    features = summary.get("heatmap_features", [])
    if heat is not None and len(features) == 2:
        grid = heat.pivot_table(index=features[0], columns=features[1], values="error_rate")
        fig = px.imshow(
            grid,
            color_continuous_scale="Reds",
            aspect="auto",
            text_auto=".0%",
            title="Error rate heatmap",
        )
        st.plotly_chart(fig, key="error_heatmap")
    mi = result.tables.get("mutual_information")
    if mi is not None:
        st.plotly_chart(
            px.bar(
                mi, x="feature", y="mutual_information", title="Feature–error mutual information"
            ),
            key="error_mi",
        )


def explanations(bundle: InsightsBundle, result: ComponentResult) -> None:
    """Global importance with intervals and the local attributions of a chosen row."""
    st.caption(f"Explains {result.summary.get('explains', 'the model')}")
    perm = result.tables.get("permutation_importance")
    if perm is not None:
        perm = perm.sort_values("importance_mean")
        fig = go.Figure(
            go.Bar(
                x=perm["importance_mean"],
                y=perm["feature"],
                orientation="h",
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": perm["ci_high"] - perm["importance_mean"],
                    "arrayminus": perm["importance_mean"] - perm["ci_low"],
                },
            )
        )
        fig.update_layout(
            title="Permutation importance (95% intervals)", xaxis_title="drop in score"
        )
        st.plotly_chart(fig, key="global_importance")
    local = result.tables.get("local_attributions")
    if local is None or local.empty:
        st.info("This bundle has no local attributions.")
        return
    row = st.selectbox("Row", sorted(local["row"].unique()), key="local_row")
    mine = local[local["row"] == row].sort_values("shap_value")
    fig = px.bar(
        mine,
        x="shap_value",
        y="feature",
        color="output",
        orientation="h",
        title=f"SHAP attributions of row {row}",
    )
    st.plotly_chart(fig, key="local_attributions")
