"""Model lifecycle: when retraining is next due, and the champion / challenger comparison.

Everything shown was stored by the runs: the retraining clock of each monitor
with ``retrain_every``, the ``challenger`` signal's verdict and evidence per
window, both versions' window results side by side, and past promotions.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import lifecycle_queries as lq
from dashboards.charts_lifecycle import paired_difference
from dashboards.components import empty_state, require_store, sources, status_label
from dashboards.data import TTL_S, engine_for

_VERDICT_STATUS = {"better": "warning", "worse": "alert", "undecided": "ok"}
_VERDICT_COLOUR = {"better": "green", "worse": "red", "undecided": "gray"}


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _schedules(db_url: str) -> pd.DataFrame:
    return lq.retrain_schedules(engine_for(db_url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _challengers(db_url: str) -> pd.DataFrame:
    return lq.challenger_monitors(engine_for(db_url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _comparison(db_url: str, monitor: str) -> pd.DataFrame:
    return lq.comparison(engine_for(db_url), monitor)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _side_by_side(db_url: str, run_id: int) -> pd.DataFrame:
    return lq.side_by_side(engine_for(db_url), run_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _promotions(db_url: str) -> pd.DataFrame:
    return lq.promotions(engine_for(db_url))


def _schedule_section(db_url: str) -> None:
    st.subheader("Retraining schedule")
    schedules = _schedules(db_url)
    if schedules.empty:
        st.caption(
            "No monitor has `retrain_every`; add e.g. `retrain_every: 30d` to request retraining monthly."
        )
        return
    for row in schedules.itertuples():
        st.markdown(f"**{row.monitor}** ({row.model}): next retraining due **{pd.Timestamp(row.next_due):%Y-%m-%d %H:%M} UTC**"
                    f" · every {row.every_days:g} days · {row.requests} request(s) so far")  # fmt: skip
    st.dataframe(schedules, hide_index=True, key="retrain_table", column_config={
        "every_days": st.column_config.NumberColumn("every (days)"),
        "next_due": st.column_config.DatetimeColumn("next due (UTC)", format="YYYY-MM-DD HH:mm"),
        "last_request": st.column_config.DatetimeColumn("last request (window end)", format="YYYY-MM-DD HH:mm"),
        "last_reason": st.column_config.TextColumn("reason"),
    })  # fmt: skip


def _challenger_section(db_url: str) -> None:
    st.subheader("Champion / challenger")
    monitors = _challengers(db_url)
    if monitors.empty:
        st.caption(
            'No monitor declares a challenger; add `challenger: {version: "2", mode: shadow}` to one.'
        )
        return
    name = st.selectbox("Monitor", monitors["monitor"].tolist(), key="challenger_monitor")
    m = monitors.set_index("monitor").loc[name]
    history = _comparison(db_url, name)
    if pd.notna(m["challenger"]):
        st.markdown(f"Champion **{m['model']}:{m['champion']}** vs challenger **{m['model']}:{m['challenger']}** "
                    f"({m['mode']} mode)")  # fmt: skip
    else:
        st.markdown(
            f"No challenger now; champion **{m['model']}:{m['champion']}**. Past comparison below."
        )
    if history.empty:
        st.info("No labelled comparison yet: the verdict needs labelled rows of both versions.")
        return
    last = history.iloc[-1]
    verdict = str(last["verdict"])
    st.badge(f"verdict: {verdict}", color=_VERDICT_COLOUR.get(verdict, "gray"))  # type: ignore[arg-type]
    st.markdown(f"**Verdict: {verdict}** — {last['message']}")
    if verdict == "better" and pd.notna(m["challenger"]):
        st.success(f"Promote it with `raiwatch monitor promote {name}` (history is kept).")
    cols = st.columns(4)
    cols[0].metric("accuracy difference", f"{last['difference']:+.4f}")
    cols[1].metric("interval", f"{last['low']:+.3f} to {last['high']:+.3f}")
    cols[2].metric("labelled pairs / rows", f"{int(last['n_pairs'] or 0):,}")
    cols[3].metric(
        "prediction agreement", "—" if pd.isna(last["agreement"]) else f"{last['agreement']:.1%}"
    )
    st.plotly_chart(paired_difference(history, title="Challenger - champion accuracy, per window"),
                    key="paired_difference")  # fmt: skip
    st.markdown("**Both versions, latest window**")
    both = _side_by_side(db_url, int(last["run_id"]))
    st.dataframe(both.assign(status=both["status"].map(lambda s: status_label(str(s)) if s else "—")),
                 hide_index=True, key="side_by_side")  # fmt: skip
    st.markdown("**Every window**")
    st.dataframe(history.drop(columns=["message"]), hide_index=True, key="comparison_table", column_config={
        "window_end": st.column_config.DatetimeColumn("window end", format="YYYY-MM-DD HH:mm"),
        "mcnemar_p": st.column_config.NumberColumn("McNemar p (window)", format="%.4g"),
    })  # fmt: skip
    st.caption("The verdict uses the evidence accumulated over windows with sequential-testing protection "
               "(an e-process for shadow mode, alpha spending for split mode), so checking every window does "
               "not inflate false verdicts; the interval is valid at every window.")  # fmt: skip


def render() -> None:
    """Draw the lifecycle page."""
    st.title("Model lifecycle")
    src = sources()
    if require_store(src) is None:
        return
    if (
        _schedules(src.db_url).empty
        and _challengers(src.db_url).empty
        and _promotions(src.db_url).empty
    ):
        empty_state(
            "No retraining schedule or challenger yet",
            'Add `retrain_every: 30d` or `challenger: {version: "2", mode: shadow}` to a monitor '
            "(`raiwatch monitor add -f monitor.yaml`); `raiwatch demo` shows both.",
        )
        return
    _schedule_section(src.db_url)
    _challenger_section(src.db_url)
    promotions = _promotions(src.db_url)
    if not promotions.empty:
        st.subheader("Promotions")
        st.dataframe(promotions, hide_index=True, key="promotions_table")
