"""RAI review tabs: counterfactuals with a what-if editor, and causal effects."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards.rai_data import load_model
from rai.bundle import InsightsBundle
from rai.results import ComponentResult

CF_META = ("row", "cf_index", "predicted", "valid", "respects_constraints", "distance", "n_changed")


def highlight_changes(
    cfs: pd.DataFrame, original: pd.Series | None, features: list[str]
) -> pd.io.formats.style.Styler:
    """Counterfactual rows with every feature that differs from ``original`` highlighted."""

    def colour(row: pd.Series) -> list[str]:
        if original is None:
            return [""] * len(row)
        return [
            "background-color: #ffe08a" if c in features and row[c] != original.get(c) else ""
            for c in row.index
        ]

    return cfs.style.apply(colour, axis=1)


def counterfactuals(bundle: InsightsBundle, result: ComponentResult) -> None:
    """Counterfactuals of a chosen row, changed features highlighted, and a what-if editor."""
    s = result.summary
    a, b, c = st.columns(3)
    a.metric("Validity", f"{s.get('validity', float('nan')):.0%}")
    b.metric("Features changed (mean)", f"{s.get('mean_features_changed', float('nan')):.2f}")
    c.metric(
        "Rows with counterfactuals",
        f"{s.get('rows_with_counterfactuals', 0)} of {s.get('rows', 0)}",
    )
    cfs = result.tables.get("counterfactuals", pd.DataFrame())
    features = [f for f in bundle.manifest.get("features", {}).get("all", []) if f in cfs.columns]
    if cfs.empty:
        st.info("No counterfactual was found for any row; see the reasons below.")
    else:
        row = st.selectbox("Row", sorted(cfs["row"].unique()), key="cf_row")
        mine = cfs[cfs["row"] == row].reset_index(drop=True)
        originals = result.tables.get("queries")
        original = (
            originals[originals["row"] == row].iloc[0]
            if originals is not None and (originals["row"] == row).any()
            else None
        )
        st.dataframe(
            highlight_changes(
                mine[[*features, *[m for m in CF_META if m in mine]]], original, features
            ),
            key="cf_table",
        )
        if original is None:
            st.caption(
                "Changed features are counted in `n_changed`; this bundle does not store the original rows to highlight them."
            )
        asked = originals[originals["row"] == row] if originals is not None else pd.DataFrame()
        if not asked.empty and set(features) <= set(asked.columns):
            _what_if(bundle, asked[features].iloc[[0]].reset_index(drop=True), "the row as it was")
        else:
            _what_if(bundle, mine[features].iloc[[0]], "its first counterfactual")
    for reason in s.get("rows_without", []):
        st.caption(f"Row {reason.get('row', '?')}: {reason.get('reason', '')}")


def what_if_scores(
    model: Any, start: pd.DataFrame, edited: pd.DataFrame
) -> tuple[str, float | None, float | None]:
    """The model's class for the edited row, and the score of its last class for the
    edited and the starting row (``None`` without ``predict_proba``)."""
    prediction = str(model.predict(edited)[0])
    if not hasattr(model, "predict_proba"):
        return prediction, None, None
    scores = model.predict_proba(pd.concat([edited, start], ignore_index=True))[:, -1]
    return prediction, float(scores[0]), float(scores[1])


def _what_if(bundle: InsightsBundle, start: pd.DataFrame, origin: str) -> None:
    st.subheader("What if")
    reference = bundle.manifest.get("model", {}).get("reference")
    model = load_model(str(reference)) if reference else None
    st.caption(
        f"Starts from {origin}. Edit a value: the model the bundle was built from scores the "
        "edited row."
    )
    edited = st.data_editor(start, key="what_if", hide_index=True)
    if model is None:
        st.info(
            "The model is not loadable here, so edits are not re-predicted: the bundle was built "
            "without a model reference (or it cannot be loaded). Build with `model:` in rai.yaml "
            "pointing at a joblib file or MLflow model to enable it."
        )
        return
    try:
        prediction, score, before = what_if_scores(model, start, edited)
    except Exception as err:  # the user's model rejected the edited row: say so
        st.warning(f"The model could not score the edited row: {type(err).__name__}: {err}")
        return
    left, right = st.columns(2)
    left.metric("Prediction for the edited row", prediction)
    if score is not None and before is not None:
        classes = getattr(model, "classes_", None)
        last = classes[-1] if classes is not None and len(classes) else "last class"
        right.metric(
            f"Score P({last}) for the edited row",
            f"{score:.4f}",
            delta=f"{score - before:+.4f} vs {origin}",
            delta_color="off",
        )


def causal(bundle: InsightsBundle, result: ComponentResult) -> None:
    """Effects with intervals, refutation results and the treatment policy."""
    s = result.summary
    effects = result.tables.get("effects", pd.DataFrame(s.get("effects", [])))
    st.caption(
        f"Outcome: {s.get('outcome', '?')} · estimator {s.get('estimator', '?')} · estimand "
        f"{str(s.get('estimand', 'ate')).upper()} · rows: {s.get('data', 'train')} ({s.get('rows', '?')})"
    )
    for warning in s.get("warnings", []):
        st.warning(warning)
    if not effects.empty:
        fig = go.Figure(
            go.Scatter(
                x=effects["effect"],
                y=effects["treatment"],
                mode="markers",
                marker={"size": 12},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": effects["ci_high"] - effects["effect"],
                    "arrayminus": effects["effect"] - effects["ci_low"],
                },
            )
        )
        fig.add_vline(x=0, line_dash="dot")
        fig.update_layout(title="Average treatment effects (95% intervals)", xaxis_title="effect")
        st.plotly_chart(fig, key="causal_effects")
        st.dataframe(effects, hide_index=True, key="effects")
    refutations = result.tables.get("refutations", pd.DataFrame(s.get("refutations", [])))
    st.subheader("Refutations")
    if s.get("all_refutations_passed"):
        st.success("Every refutation passed.")
    elif not refutations.empty:
        st.warning("Some refutations failed: treat the effects with caution.")
    st.dataframe(refutations, hide_index=True, key="refutations")
    st.subheader("Policy")
    policies = s.get("policies") or {}
    if not policies:
        st.caption(
            "No treatment policy was asked for (set `policy: true` for a treatment in rai.yaml)."
        )
    for treatment, policy in policies.items():
        st.markdown(f"**{treatment}**")
        st.json(policy, expanded=False)
