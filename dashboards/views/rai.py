"""RAI review of one insights bundle: scorecard and gates, then one tab per component."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.components import empty_state, sources
from dashboards.rai_data import bundle_label, find_bundles, load_bundle
from dashboards.views import rai_analysis, rai_whatif
from rai.bundle import InsightsBundle

TABS = {
    "Fairness": ("fairness", rai_analysis.fairness),
    "Error analysis": ("error_analysis", rai_analysis.error_analysis),
    "Explanations": ("explanation", rai_analysis.explanations),
    "Counterfactuals": ("counterfactual", rai_whatif.counterfactuals),
    "Causal": ("causal", rai_whatif.causal),
}


def gate_table(bundle: InsightsBundle) -> pd.DataFrame:
    """One row per gate: metric, feature, threshold, measured value and verdict."""
    return pd.DataFrame(
        [
            {
                "gate": v.gate.metric,
                "sensitive feature": v.gate.sensitive_feature or "",
                "threshold": v.gate.threshold_text,
                "value": v.value,
                "verdict": "✅ pass" if v.passed else "❌ fail",
                "reason": v.reason,
            }
            for v in bundle.gate_verdicts()
        ],
        columns=["gate", "sensitive feature", "threshold", "value", "verdict", "reason"],
    )


def scorecard(bundle: InsightsBundle) -> None:
    """Model metrics, gate verdicts and component status."""
    gates = gate_table(bundle)
    failed = int((gates["verdict"] != "✅ pass").sum())
    if gates.empty:
        st.info("No gates are configured for this bundle (add `gates:` to rai.yaml).")
    elif failed:
        st.error(
            f"**{failed} of {len(gates)} gates fail** — this model does not pass its release gates."
        )
    else:
        st.success(f"**All {len(gates)} gates pass.**")
    perf = bundle.components.get("performance")
    if perf is not None and perf.ok:
        metrics = perf.summary.get("metrics", {})
        for col, (name, value) in zip(
            st.columns(max(1, len(metrics))), metrics.items(), strict=False
        ):
            col.metric(name, f"{value:.3f}" if isinstance(value, float) else str(value))
    st.dataframe(gates, hide_index=True, key="gates")
    status = pd.DataFrame(
        [
            {
                "component": n,
                "status": c.status,
                "seconds": round(c.seconds, 2),
                "error": c.error or "",
            }
            for n, c in bundle.components.items()
        ]
    )
    with st.expander("Components"):
        st.dataframe(status, hide_index=True, key="component_status")


def render() -> None:
    """Draw the RAI review page for the bundle chosen in the sidebar."""
    st.title("RAI review")
    src = sources()
    bundles = find_bundles(str(src.bundle_dir))
    if not bundles:
        empty_state(
            f"No insights bundle in {src.bundle_dir}",
            "Build one with `raiwatch rai build -f rai.yaml --out <dir>` (or `raiwatch demo`), then "
            "start the dashboard with `--bundles <dir>` or set `RAIWATCH_BUNDLE_DIR`.",
        )
        return
    wanted = st.query_params.get("bundle")
    names = {b: bundle_label(b, str(src.bundle_dir)) for b in bundles}
    index = bundles.index(wanted) if wanted in bundles else 0
    path = st.sidebar.selectbox("Bundle", bundles, index=index, format_func=names.__getitem__)
    bundle = load_bundle(path)
    if isinstance(bundle, str):
        empty_state(
            f"The bundle at {path} cannot be read",
            f"{bundle}\n\nRebuild it with `raiwatch rai build`.",
            kind="error",
        )
        return
    model = bundle.manifest.get("model", {})
    st.caption(
        f"{path} · model {model.get('type', '?')} · sha256 {str(model.get('sha256', ''))[:12]}"
    )
    scorecard(bundle)
    for tab, (label, (component, draw)) in zip(st.tabs(list(TABS)), TABS.items(), strict=True):
        with tab:
            result = bundle.components.get(component)
            if result is None:
                empty_state(
                    f"{label} was not run",
                    f"Enable the `{component}` component in rai.yaml and rebuild the bundle.",
                )
            elif not result.ok:
                empty_state(
                    f"{label} {result.status}",
                    f"What happened: `{result.error or 'no error message stored'}`.\n\nFix the cause in "
                    "the data or rai.yaml and rebuild with `raiwatch rai build`; the other components are unaffected.",
                    kind="warning",
                )
            else:
                draw(bundle, result)
