"""Read-only queries behind the alerts page: alert states and events, deliveries, attempts.

Unlike ``Store.list_attempts`` these return each attempt's start time and
duration, which the latency chart needs. Endpoint secrets are never selected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.engine import Engine

from monitor.store.tables_alerts import (
    AlertEventRow,
    AlertHandlingRow,
    AlertStateRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)
from monitor.store.tables_runs import MonitorRow

STATES = AlertStateRow.__table__
HANDLING = AlertHandlingRow.__table__
EVENTS = AlertEventRow.__table__
DELIVERIES = WebhookDeliveryRow.__table__
ENDPOINTS = WebhookEndpointRow.__table__
ATTEMPTS = WebhookAttemptRow.__table__
MONITORS = MonitorRow.__table__


def alert_states(engine: Engine, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """Current state of every (monitor, signal), firing first, with the monitor's model
    version and what a person did about it (acknowledged, silenced until) as of ``now``."""
    now = now or dt.datetime.now(dt.UTC)
    query = (
        select(
            STATES.c.monitor,
            MONITORS.c.model_name.label("model"),
            MONITORS.c.model_version.label("version"),
            STATES.c.signal,
            STATES.c.state,
            STATES.c.since,
            STATES.c.last_window_end,
            STATES.c.last_fired_at,
            STATES.c.last_run_id,
            HANDLING.c.acknowledged_by,
            HANDLING.c.acknowledged_at,
            HANDLING.c.acknowledged_episode,
            HANDLING.c.note,
            HANDLING.c.silenced_by,
            HANDLING.c.silenced_until,
            HANDLING.c.silence_reason,
        )
        .outerjoin(MONITORS, MONITORS.c.name == STATES.c.monitor)
        .outerjoin(
            HANDLING,
            and_(HANDLING.c.monitor == STATES.c.monitor, HANDLING.c.signal == STATES.c.signal),
        )
        .order_by(STATES.c.monitor, STATES.c.signal)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    frame = pd.DataFrame(rows, columns=list(query.selected_columns.keys()))
    firing = frame["state"] == "firing"
    episode = frame["acknowledged_episode"]
    frame["acknowledged"] = firing & episode.notna() & (episode == frame["since"])
    until = pd.to_datetime(frame["silenced_until"], utc=True)
    frame["silenced"] = until.notna() & (until > pd.Timestamp(now))
    frame["silenced_until"] = frame["silenced_until"].where(frame["silenced"], None)
    frame = frame.drop(columns=["acknowledged_episode"])
    frame["_rank"] = frame["state"].map({"firing": 0, "resolved": 1, "ok": 2}).fillna(3)
    return (
        frame.sort_values(
            ["_rank", "since", "monitor", "signal"], ascending=[True, False, True, True]
        )
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def alert_events(engine: Engine, *, limit: int = 1000) -> pd.DataFrame:
    """Alert transitions (``firing``/``resolved``), newest window first."""
    query = (
        select(
            EVENTS.c.id,
            EVENTS.c.monitor,
            EVENTS.c.signal,
            EVENTS.c.event,
            EVENTS.c.run_id,
            EVENTS.c.window_start,
            EVENTS.c.window_end,
            EVENTS.c.created_at,
        )
        .order_by(EVENTS.c.window_end.desc(), EVENTS.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=list(query.selected_columns.keys()))


def deliveries(engine: Engine, *, limit: int = 1000) -> pd.DataFrame:
    """Webhook deliveries with their endpoint, newest first (no bodies, no secrets)."""
    query = (
        select(
            DELIVERIES.c.id,
            ENDPOINTS.c.monitor,
            ENDPOINTS.c.url,
            DELIVERIES.c.event_type,
            DELIVERIES.c.message_id,
            DELIVERIES.c.run_id,
            DELIVERIES.c.status,
            DELIVERIES.c.attempts,
            DELIVERIES.c.last_error,
            DELIVERIES.c.created_at,
            DELIVERIES.c.next_attempt_at,
            DELIVERIES.c.delivered_at,
        )
        .join(ENDPOINTS, ENDPOINTS.c.id == DELIVERIES.c.endpoint_id)
        .order_by(DELIVERIES.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=list(query.selected_columns.keys()))


def attempts(engine: Engine, delivery_ids: Sequence[int]) -> pd.DataFrame:
    """Every attempt of the given deliveries: status code, error and latency (ms)."""
    columns = ["delivery_id", "attempt", "started_at", "latency_ms", "status_code", "error"]
    if not delivery_ids:
        return pd.DataFrame(columns=columns)
    query = (
        select(
            ATTEMPTS.c.delivery_id,
            ATTEMPTS.c.attempt,
            ATTEMPTS.c.started_at,
            (ATTEMPTS.c.duration_s * 1000.0).label("latency_ms"),
            ATTEMPTS.c.status_code,
            ATTEMPTS.c.error,
        )
        .where(ATTEMPTS.c.delivery_id.in_([int(i) for i in delivery_ids]))
        .order_by(ATTEMPTS.c.delivery_id, ATTEMPTS.c.id)
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)


def delivery_body(engine: Engine, delivery_id: int) -> str | None:
    """The JSON payload a delivery sends (signed on sending; it holds no secret)."""
    query = select(DELIVERIES.c.body).where(DELIVERIES.c.id == int(delivery_id))
    with engine.connect() as conn:
        body = conn.scalar(query)
    return None if body is None else str(body)
