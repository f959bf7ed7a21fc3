"""Alerts and webhooks: alert states (firing first, linked to their runs), acknowledging
and silencing them, their history, deliveries with their attempts and payload, and
redelivery of a dead-lettered delivery after a confirmation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.charts import alert_timeline, latency_chart
from dashboards.components import empty_state, require_store, sources
from dashboards.sources import DashboardSources
from monitor.errors import RaiwatchError

CONFIRM_KEY = "redeliver_pending"
HANDLED_KEY = "alert_handled"
MODEL_PAGE = "model"
STATE_LABELS = {"firing": "🔴 firing", "resolved": "🟢 resolved", "ok": "🟢 ok"}


SILENCE_CHOICES: dict[str, dt.timedelta] = {
    "1 hour": dt.timedelta(hours=1),
    "4 hours": dt.timedelta(hours=4),
    "24 hours": dt.timedelta(hours=24),
    "7 days": dt.timedelta(days=7),
}


def run_link(row: pd.Series) -> str | None:
    """The model page of the run that last moved an alert (``None`` without a run)."""
    if pd.isna(row["last_run_id"]) or pd.isna(row["model"]):
        return None
    return (
        f"./{MODEL_PAGE}?model={row['model']}&version={row['version']}"
        f"&monitor={row['monitor']}&run={int(row['last_run_id'])}"
    )


def handling_text(row: pd.Series) -> str:
    """``silenced until … by …``, ``acknowledged by …`` or ``""``."""
    parts = []
    if row["silenced"]:
        parts.append(
            f"silenced until {row['silenced_until']:%Y-%m-%d %H:%M} by {row['silenced_by']}"
        )
    if row["acknowledged"]:
        parts.append(f"acknowledged by {row['acknowledged_by']}")
    return "; ".join(parts)


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
    _handled_message()
    firing = states[states["state"] == "firing"]
    unhandled = firing[~firing["acknowledged"] & ~firing["silenced"]]
    cols = st.columns(3)
    cols[0].metric("Signals firing", len(firing))
    cols[1].metric("Firing, not handled", len(unhandled))
    cols[2].metric("Silenced", int(states["silenced"].sum()))
    table = states.assign(
        badge=states["state"].map(STATE_LABELS).fillna(states["state"]),
        handling=[handling_text(r) for _, r in states.iterrows()],
        run=[run_link(r) for _, r in states.iterrows()],
    )
    st.dataframe(
        table,
        hide_index=True,
        key="alert_states",
        column_order=[
            "badge",
            "monitor",
            "signal",
            "since",
            "handling",
            "run",
            "model",
            "version",
            "last_window_end",
            "last_fired_at",
            "note",
            "silence_reason",
        ],
        column_config={
            "badge": st.column_config.TextColumn("state"),
            "since": st.column_config.DatetimeColumn(
                "since (window end)", format="YYYY-MM-DD HH:mm"
            ),
            "handling": st.column_config.TextColumn("acknowledged / silenced", width="medium"),
            "run": st.column_config.LinkColumn("run", display_text="open run"),
            "last_window_end": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "last_fired_at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    if not firing.empty:
        _handle_form(src, firing)
    if not events.empty:
        st.plotly_chart(alert_timeline(events), key="alert_timeline")
        st.dataframe(events, hide_index=True, key="alert_events")


def _handled_message() -> None:
    done = st.session_state.pop(HANDLED_KEY, None)
    if done is not None:
        st.success(done)


def _handle_form(src: DashboardSources, firing: pd.DataFrame) -> None:
    """Acknowledge or silence one firing alert (stored; shown here and on the overview)."""
    st.subheader("Acknowledge or silence a firing alert")
    keys = [f"{m} · {s}" for m, s in zip(firing["monitor"], firing["signal"], strict=True)]
    chosen = st.selectbox("Firing alert", keys, key="handle_alert")
    monitor, _, signal = str(chosen).partition(" · ")
    who = st.text_input("Your name", key="handle_by", placeholder="who is on it")
    note = st.text_input("Note or reason", key="handle_note", placeholder="optional")
    left, mid, right = st.columns([2, 2, 3])
    length = mid.selectbox("Silence for", list(SILENCE_CHOICES), index=1, key="handle_for")
    store = data.store_for(src.db_url)
    if left.button("Acknowledge", key="handle_ack", type="primary"):
        _write(
            lambda: store.acknowledge_alert(monitor, signal, by=who, note=note or None),
            f"{signal} of {monitor} is acknowledged by {who.strip()}.",
        )
    if right.button(f"Silence for {length}", key="handle_silence"):
        until = dt.datetime.now(dt.UTC) + SILENCE_CHOICES[str(length)]
        _write(
            lambda: store.silence_alert(monitor, signal, until=until, by=who, reason=note or None),
            f"{signal} of {monitor} is silenced until {until:%Y-%m-%d %H:%M} UTC: its firing "
            "webhooks are not sent meanwhile.",
        )
    silenced = firing[
        (firing["monitor"] == monitor) & (firing["signal"] == signal) & firing["silenced"]
    ]
    if not silenced.empty and st.button("End the silence now", key="handle_unsilence"):
        _write(
            lambda: store.unsilence_alert(monitor, signal),
            f"{signal} of {monitor} is no longer silenced.",
        )


def _write(action: Callable[[], object], done: str) -> None:
    try:
        action()
    except RaiwatchError as err:
        st.error(str(err))
        return
    data.clear()
    st.session_state[HANDLED_KEY] = done
    st.rerun()


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
    body = data.delivery_body(src.db_url, int(delivery_id))
    with st.expander(f"Payload of delivery #{delivery_id} (as signed and sent)"):
        try:
            st.json(json.loads(body or "null"), expanded=2)
        except json.JSONDecodeError:
            st.code(body or "", language="json")
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
