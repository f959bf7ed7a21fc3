"""Fleet overview: every model version with its status, alerts, traffic and drift.

A version's status is the worst of its firing alerts, of the latest window
*with data* of each monitor and of the traffic signal on its newest window;
windows without rows are reported as "no traffic" (from the traffic signal),
never as a healthy or empty state.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.components import STATUS_ICONS, empty_state, require_store, sources, status_label
from dashboards.navigation import page
from dashboards.queries import BADGE_ORDER

MODEL_PAGE = "model"


def filter_fleet(fleet: pd.DataFrame, search: str, statuses: list[str]) -> pd.DataFrame:
    """Rows whose model, version or alerting signals contain ``search`` and whose status is chosen."""
    out = fleet[fleet["status"].isin(statuses)] if statuses else fleet
    needle = search.strip().lower()
    if needle:
        haystack = (
            out["model"] + ":" + out["version"] + " " + out["in_alert"] + " " + out["monitors"]
        ).str.lower()
        out = out[haystack.str.contains(needle, regex=False)]
    return out


def _summary(fleet: pd.DataFrame) -> None:
    counts = fleet["status"].value_counts()
    cols = st.columns(len(BADGE_ORDER) + 1)
    for col, status in zip(cols, BADGE_ORDER, strict=False):
        col.metric(status_label(status), int(counts.get(status, 0)))
    cols[-1].metric(
        "Firing, not handled",
        int(fleet["unhandled"].sum()),
        help="Firing alerts nobody acknowledged or silenced (Alerts page)",
    )
    quiet = fleet[fleet["quiet"] != ""]
    if not quiet.empty:
        st.warning(
            "**No traffic:** "
            + "; ".join(f"{r.model}:{r.version} has {r.quiet}" for r in quiet.itertuples())
            + ". The traffic signal warns from the first window without rows and alerts from "
            "its `windows` setting (webhook `model.traffic.missing`); the rest of the status is "
            "that of the last window with data. Check that the serving code still logs."
        )


def render() -> None:
    """Draw the fleet overview."""
    st.title("Fleet overview")
    src = sources()
    if require_store(src) is None:
        return
    fleet = data.fleet(src.db_url)
    if fleet.empty:
        empty_state(
            "No model versions registered yet",
            "Register one with `raiwatch model register -f model.yaml`, build its baseline with "
            "`raiwatch baseline create`, and add a monitor; or run `raiwatch demo` to see a complete example.",
        )
        return
    _summary(fleet)
    left, right = st.columns([2, 3])
    search = left.text_input(
        "Search", placeholder="model, version, feature or signal", key="fleet_search"
    )
    statuses = right.multiselect(
        "Status",
        list(BADGE_ORDER),
        format_func=status_label,
        key="fleet_status",
        placeholder="all statuses",
    )
    shown = filter_fleet(fleet, search, statuses)
    st.caption(f"{len(shown):,} of {len(fleet):,} model versions · select a row to open its page")
    if shown.empty:
        st.info("No model version matches the filters.")
        return
    table = shown.assign(
        badge=shown["status"].map(status_label),
        # Streamlit's line column prints a list with gaps as text, so windows without rows
        # are left out of the line (never drawn as 0, which would look like a recovery);
        # the "no traffic" column says how long they have lasted
        drift=shown["drift"].map(lambda values: [v for v in values if v is not None and v == v]),
        link=[
            f"./{MODEL_PAGE}?model={m}&version={v}"
            for m, v in zip(shown["model"], shown["version"], strict=True)
        ],
    )
    event = st.dataframe(
        table,
        hide_index=True,
        key="fleet_table",
        on_select="rerun",
        selection_mode="single-row",
        column_order=[
            "model",
            "version",
            "badge",
            "drift",
            "in_alert",
            "quiet",
            "handling",
            "last_data",
            "rows",
            "runs",
            "monitors",
            "task",
            "link",
        ],
        column_config={
            "badge": st.column_config.TextColumn("status", width="small"),
            "last_data": st.column_config.DatetimeColumn(
                "last window with data (end)", format="YYYY-MM-DD HH:mm"
            ),
            "quiet": st.column_config.TextColumn("no traffic"),
            "in_alert": st.column_config.TextColumn("signals in alert", width="large"),
            "handling": st.column_config.TextColumn("acknowledged / silenced"),
            "drift": st.column_config.LineChartColumn(
                "dataset drift (last 30 windows, those with rows)", y_min=0.0, y_max=1.0
            ),
            "rows": st.column_config.NumberColumn("rows (last window with data)", format="%d"),
            "link": st.column_config.LinkColumn("page", display_text="open"),
        },
    )
    selected = getattr(getattr(event, "selection", None), "rows", [])
    if selected:
        row = shown.iloc[selected[0]]
        st.switch_page(
            page(MODEL_PAGE), query_params={"model": row["model"], "version": row["version"]}
        )
    st.caption(" · ".join(f"{icon} {s.replace('_', ' ')}" for s, icon in STATUS_ICONS.items()))
