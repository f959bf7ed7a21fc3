"""Model page, the "what is wrong" card of the chosen run: signals in alert and since
when, the features that moved most with their values and thresholds, the next step,
and links to the run and its alerts."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboards.whats_wrong import Finding, findings


def run_link(name: str, version: str, monitor: str, run_id: int) -> str:
    """Permalink of a run on the model page (what webhook payloads link to)."""
    return f"./model?model={name}&version={version}&monitor={monitor}&run={run_id}"


def rai_review_of(run: pd.Series) -> dict[str, object]:
    """What the run stored about its window's RAI review (``{}`` when none was asked)."""
    details = run["details"] if isinstance(run.get("details"), dict) else {}
    review = details.get("rai_review")
    return review if isinstance(review, dict) else {}


def _times(x: float) -> str:
    if x != x:
        return "—"
    return "∞" if x == float("inf") else f"{x:.1f}×"


#: Data-quality rates whose alert is explained by the window's own values.
EXPLAINED_RATES = ("unseen_category_rate", "out_of_range_rate")
Examples = Callable[[str], str | None]


def _finding(f: Finding, examples: Examples | None = None) -> None:
    windows = f"{f.windows} window{'s' if f.windows != 1 else ''} in a row"
    st.markdown(
        f"**🔴 {f.title}** — in alert since the window starting "
        f"**{f.since:%Y-%m-%d %H:%M}** ({windows})"
    )
    if f.top:
        table = pd.DataFrame(
            [
                {
                    "feature": t.feature,
                    "measure": t.metric,
                    "value": t.value,
                    "threshold": t.threshold,
                    "past threshold": _times(t.severity),
                    "effect size": "—" if t.effect_size is None else f"{t.effect_size:.3g}",
                    "status": t.status,
                }
                for t in f.top
            ]
        )
        if table["effect size"].eq("—").all():
            table = table.drop(columns="effect size")
        st.dataframe(table, hide_index=True, key=f"wrong_{f.signal}")
    if examples is not None:
        for t in f.top:
            if t.metric_name in EXPLAINED_RATES and (text := examples(t.feature)):
                st.markdown(f"**{t.feature}**: {text}")
    st.caption(f"Next step: {f.next_step}")


def what_is_wrong(
    name: str,
    version: str,
    monitor: str,
    run: pd.Series,
    results: pd.DataFrame,
    examples: Examples | None = None,
) -> list[Finding]:
    """Draw the card for ``run``; returns what it showed (for tests and callers)."""
    run_id = int(run["id"])
    with st.container(border=True):
        st.subheader("What is wrong in this window")
        if run["status"] == "no_data":
            st.info("This window had no rows: nothing was evaluated. Choose a window with data.")
            return []
        if run["status"] == "error":
            st.error("This run failed; see the message below.")
            return []
        found = findings(results, run_id)
        mine = results[results["run_id"] == run_id]
        warnings = sorted(mine.loc[mine["status"] == "warning", "signal"].unique())
        if not found:
            st.success(
                "No signal is in alert in this window."
                + (f" Warnings: {', '.join(warnings)}." if warnings else "")
            )
        for f in found:
            _finding(f, examples)
        link = run_link(name, version, monitor, run_id)
        links = [
            f"[Permalink to this run]({link})",
            "[Alerts and webhooks of this monitor](./alerts)",
        ]
        review = rai_review_of(run)
        if review.get("bundle"):
            verdict = "gates pass" if review.get("gates_passed") else "gates fail"
            links.append(
                f"[RAI review of this window ({verdict})](./rai?bundle={quote(str(review['bundle']))})"
            )
        elif review.get("status") in ("skipped", "failed"):
            links.append(
                f"RAI review {review['status']}: {review.get('reason') or review.get('error')}"
            )
        st.markdown(" · ".join(links))
    return found
