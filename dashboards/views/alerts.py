"""Alerts and webhooks: alert states and history, deliveries with their attempts,
and redelivery of a dead-lettered delivery after a confirmation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.charts import alert_timeline, latency_chart
from dashboards.components import empty_state, require_store, sources
from dashboards.sources import DashboardSources

CONFIRM_KEY = "redeliver_pending"


def _alerts(src: DashboardSources) -> None:
    states = data.alert_states(src.db_url)
    events = data.alert_events(src.db_url)
    if states.empty and events.empty:
        empty_state(
            "No alerts yet",
            "Alerts appear once a scheduled monitor (`raiwatch serve`) evaluates a window; a signal "
            "in alert moves its state to firing and enqueues the monitor's webhooks.",
        )
        return
    firing = states[states["state"] == "firing"]
    st.metric("Signals firing", len(firing))
    st.dataframe(states, hide_index=True, key="alert_states")
    if not events.empty:
        st.plotly_chart(alert_timeline(events), key="alert_timeline")
        st.dataframe(events, hide_index=True, key="alert_events")


def _confirm_redelivery(src: DashboardSources, delivery: pd.Series) -> None:
    delivery_id = int(delivery["id"])
    if st.session_state.get(CONFIRM_KEY) != delivery_id:
        if st.button(f"Redeliver #{delivery_id}…", key="redeliver_ask"):
            st.session_state[CONFIRM_KEY] = delivery_id
            st.rerun()
        return
    st.warning(
        f"Queue delivery #{delivery_id} ({delivery['event_type']} to {delivery['url']}) again? It is "
        f"sent with the same webhook-id `{delivery['message_id']}` and a fresh attempt budget; a "
        "receiver that already processed it should drop it as a duplicate."
    )
    confirm, cancel = st.columns(2)
    if confirm.button("Confirm redelivery", type="primary", key="redeliver_confirm"):
        queued = data.store_for(src.db_url).redeliver([delivery_id])
        st.session_state.pop(CONFIRM_KEY, None)
        data.clear()
        st.session_state["redeliver_done"] = (delivery_id, queued)
        st.rerun()
    if cancel.button("Cancel", key="redeliver_cancel"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()


def _deliveries(src: DashboardSources) -> None:
    done = st.session_state.pop("redeliver_done", None)
    if done is not None:
        delivery_id, queued = done
        if queued:
            st.success(
                f"Delivery #{delivery_id} is queued again; the deliverer in `raiwatch serve` sends it next."
            )
        else:
            st.warning(
                f"Delivery #{delivery_id} was not dead-lettered any more; nothing was queued."
            )
    frame = data.deliveries(src.db_url)
    if frame.empty:
        empty_state(
            "No webhook deliveries yet",
            "Add webhook endpoints to a monitor (`webhooks:` in monitor.yaml); each firing alert then "
            "writes one delivery per endpoint, sent with retries by `raiwatch serve`.",
        )
        return
    counts = frame["status"].value_counts()
    for col, status in zip(st.columns(4), ("pending", "sending", "delivered", "dead"), strict=True):
        col.metric(status, int(counts.get(status, 0)))
    chosen_status = st.multiselect(
        "Delivery status", ["pending", "sending", "delivered", "dead"], key="delivery_status"
    )
    shown = frame[frame["status"].isin(chosen_status)] if chosen_status else frame
    st.dataframe(shown, hide_index=True, key="deliveries")
    tries = data.attempts(src.db_url, tuple(int(i) for i in shown["id"]))
    if not tries.empty:
        st.plotly_chart(latency_chart(tries), key="latency_chart")
    delivery_id = st.selectbox(
        "Delivery",
        [int(i) for i in shown["id"]],
        key="delivery_id",
        format_func=lambda i: _label(frame, i),
    )
    if delivery_id is None:
        return
    delivery = frame[frame["id"] == delivery_id].iloc[0]
    mine = tries[tries["delivery_id"] == delivery_id]
    st.dataframe(
        mine.drop(columns=["delivery_id"]),
        hide_index=True,
        key="attempts",
        column_config={"latency_ms": st.column_config.NumberColumn("latency (ms)", format="%.0f")},
    )
    if delivery["status"] == "dead":
        _confirm_redelivery(src, delivery)
    else:
        st.caption(
            f"Delivery #{delivery_id} is {delivery['status']}; only dead-lettered deliveries are redelivered here."
        )


def _label(frame: pd.DataFrame, delivery_id: int) -> str:
    row = frame[frame["id"] == delivery_id].iloc[0]
    return f"#{delivery_id} · {row['status']} · {row['event_type']} · {row['url']}"


def render() -> None:
    """Draw the alerts and webhooks page."""
    st.title("Alerts & webhooks")
    src = sources()
    if require_store(src) is None:
        return
    alerts_tab, deliveries_tab = st.tabs(["Alerts", "Webhook deliveries"])
    with alerts_tab:
        _alerts(src)
    with deliveries_tab:
        _deliveries(src)
