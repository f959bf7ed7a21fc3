"""Apply a run's results to alert states and fill the webhook outbox.

Runs inside the transaction that stores the run (transactional outbox): either
the results, the alert transitions and the deliveries are all committed, or
none is. A window is applied to an alert state at most once (windows at or
before the state's ``last_window_end`` leave it alone), so re-runs and
backfills of old windows never duplicate an alert or a webhook. A signal
silenced by a person (``Store.silence_alert``) still moves its state and logs
its event, but its firing webhooks are not enqueued until the silence ends.
The traffic signal's firing and resolution also send ``model.traffic.missing``
and ``model.traffic.restored``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerting.policy import AlertPolicy, decide, signal_statuses
from monitor.signals.results import SignalResult
from monitor.signals.traffic import SIGNAL as TRAFFIC
from monitor.store.alert_handling import silenced_signals
from monitor.store.base import utcnow
from monitor.store.events import (
    EVENT_FIRING,
    EVENT_RESOLVED,
    EVENT_RETRAIN,
    EVENT_TRAFFIC_MISSING,
    EVENT_TRAFFIC_RESTORED,
    build_payload,
    encode_body,
    event_id,
    message_id,
    signal_entry,
)
from monitor.store.tables_alerts import (
    AlertEventRow,
    AlertStateRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)
from monitor.store.tables_runs import RunRow


def apply_alerts(
    session: Session, run: RunRow, results: list[SignalResult], policy: AlertPolicy
) -> list[str]:
    """Move alert states for ``run`` and enqueue deliveries; returns enqueued event types."""
    window_end = run.window_end
    states = {
        row.signal: row
        for row in session.scalars(
            select(AlertStateRow).where(AlertStateRow.monitor == run.monitor).with_for_update()
        )
    }
    fired: list[dict[str, object]] = []
    resolved: list[dict[str, object]] = []
    for signal, status in signal_statuses(results).items():
        row = states.get(signal)
        if row is not None and row.last_window_end >= window_end:
            continue
        if row is None and status in ("no_data", "error"):
            continue  # no evidence yet: no state to start
        previous = row.state if row is not None else "ok"
        decision = decide(
            row.state if row else None,
            row.last_fired_at if row else None,
            status,
            window_end,
            policy.cooldown,
        )
        if row is None:
            row = AlertStateRow(monitor=run.monitor, signal=signal, state=decision.state)
            row.since = window_end
            session.add(row)
        elif decision.state != row.state:
            row.state = decision.state
            row.since = window_end
        row.last_window_end = window_end
        row.last_run_id = run.id
        if decision.event is None:
            continue
        if decision.event == "firing":
            row.last_fired_at = window_end
        session.add(
            AlertEventRow(
                monitor=run.monitor,
                signal=signal,
                event=decision.event,
                run_id=run.id,
                window_start=run.window_start,
                window_end=window_end,
            )
        )
        entry = signal_entry(
            signal,
            status,
            decision.state,
            previous,
            results,
            only_breached=decision.event == "firing",
        )
        (fired if decision.event == "firing" else resolved).append(entry)
    silenced = silenced_signals(session, run.monitor, utcnow()) if fired else set()
    fired = [e for e in fired if e["signal"] not in silenced]  # recorded above, not paged
    events: list[tuple[str, list[dict[str, object]]]] = []
    if fired:
        events.append((EVENT_FIRING, fired))
        retrain = [e for e in fired if e["signal"] in policy.retrain_signals]
        if retrain:
            events.append((EVENT_RETRAIN, retrain))
    if resolved:
        events.append((EVENT_RESOLVED, resolved))
    for event_type, entries in ((EVENT_TRAFFIC_MISSING, fired), (EVENT_TRAFFIC_RESTORED, resolved)):
        traffic = [e for e in entries if e["signal"] == TRAFFIC]  # its own event, once per episode
        if traffic:
            events.append((event_type, traffic))
    for event_type, signals in events:
        extra = {"reason": "signals"} if event_type == EVENT_RETRAIN else None
        enqueue(session, run, event_type, signals, policy, extra=extra)  # type: ignore[arg-type]
    return [e for e, _ in events]


def enqueue(
    session: Session,
    run: RunRow,
    event_type: str,
    signals: list[dict[str, object]],
    policy: AlertPolicy,
    *,
    evt: str | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    evt = evt or event_id(run.monitor, run.window_start, run.window_end, event_type)
    now: datetime = utcnow()
    body = encode_body(
        build_payload(
            event_type,
            event=evt,
            timestamp=now,
            model=run.model_name,
            version=run.model_version,
            monitor=run.monitor,
            run_id=run.id,
            window_start=run.window_start,
            window_end=run.window_end,
            signals=signals,  # type: ignore[arg-type]
            dashboard_url=policy.dashboard_url,
            extra=extra,
        )
    )
    endpoints = session.scalars(
        select(WebhookEndpointRow).where(
            WebhookEndpointRow.monitor == run.monitor, WebhookEndpointRow.enabled.is_(True)
        )
    ).all()
    for endpoint in endpoints:
        if event_type not in endpoint.events:
            continue
        msg = message_id(evt, endpoint.id)
        exists = session.scalar(
            select(WebhookDeliveryRow.id).where(
                WebhookDeliveryRow.endpoint_id == endpoint.id,
                WebhookDeliveryRow.message_id == msg,
            )
        )
        if exists is None:
            session.add(
                WebhookDeliveryRow(
                    endpoint_id=endpoint.id,
                    message_id=msg,
                    event_type=event_type,
                    run_id=run.id,
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
