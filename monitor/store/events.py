"""Webhook event payloads and their deterministic identifiers.

Event types: ``monitor.alert.firing``, ``monitor.alert.resolved``,
``model.retrain.requested`` (``data.reason``: ``signals`` or ``schedule``),
``model.challenger.better`` / ``model.challenger.worse`` (``data.verdict`` and
``data.evidence``), and ``model.traffic.missing`` / ``model.traffic.restored``
(the traffic signal started / stopped firing: no rows for its ``windows`` windows in a
row, then rows again). The body follows the Standard Webhooks shape
``{"type", "timestamp", "data"}``; ``data`` holds ``event_id``, ``model``,
``version``, ``monitor``, ``run_id``, ``window`` (``start``/``end``), ``signals``
(each with ``signal``, ``status``, ``state``, ``previous_state`` and
``results``: ``feature``, ``metric``, ``value``, ``threshold``, ``status``,
``p_value``) and ``dashboard_url``.

Ids are hashes of (monitor, window, event type[, endpoint]), so re-running a
window produces the same ids and the outbox's unique key drops duplicates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from monitor.signals.results import SignalResult

EVENT_FIRING = "monitor.alert.firing"
EVENT_RESOLVED = "monitor.alert.resolved"
EVENT_RETRAIN = "model.retrain.requested"
EVENT_CHALLENGER_BETTER = "model.challenger.better"
EVENT_CHALLENGER_WORSE = "model.challenger.worse"
EVENT_TRAFFIC_MISSING = "model.traffic.missing"
EVENT_TRAFFIC_RESTORED = "model.traffic.restored"
EVENT_TYPES: tuple[str, ...] = (
    EVENT_FIRING, EVENT_RESOLVED, EVENT_RETRAIN, EVENT_CHALLENGER_BETTER, EVENT_CHALLENGER_WORSE,
    EVENT_TRAFFIC_MISSING, EVENT_TRAFFIC_RESTORED,
)  # fmt: skip
MAX_RESULTS_PER_SIGNAL = 100


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def event_id(monitor: str, window_start: datetime, window_end: datetime, event_type: str) -> str:
    """Deterministic id of one event of one run."""
    return "evt_" + _digest(monitor, window_start.isoformat(), window_end.isoformat(), event_type)


def message_id(event: str, endpoint_id: int) -> str:
    """The ``webhook-id`` of one event sent to one endpoint (same on every retry)."""
    return "msg_" + _digest(event, str(endpoint_id))


def dashboard_link(
    base: str | None, model: str, version: str, monitor: str, run_id: int
) -> str | None:
    """Link to the run in the dashboard, or ``None`` without a dashboard URL."""
    if not base:
        return None
    query = urlencode({"model": model, "version": version, "monitor": monitor, "run": run_id})
    return f"{base.rstrip('/')}/?{query}"


def signal_entry(
    signal: str,
    status: str,
    state: str,
    previous_state: str,
    results: list[SignalResult],
    *,
    only_breached: bool,
) -> dict[str, Any]:
    """One element of ``data.signals``."""
    chosen = [r for r in results if r.signal == signal]
    if only_breached:
        chosen = [r for r in chosen if r.status == "alert"]
    entry: dict[str, Any] = {
        "signal": signal,
        "status": status,
        "state": state,
        "previous_state": previous_state,
        "results": [
            {
                **({"segment": r.segment} if r.segment is not None else {}),
                "feature": r.feature,
                "metric": r.metric,
                "value": r.to_dict()["value"],
                "threshold": r.to_dict()["threshold"],
                "status": r.status,
                "p_value": r.to_dict()["p_value"],
            }
            for r in chosen[:MAX_RESULTS_PER_SIGNAL]
        ],
    }
    segments = sorted({r.segment for r in chosen if r.segment is not None and r.status == "alert"})
    if segments:  # the segments in alert, named (``region=EU``), so the page says where
        entry["segments"] = segments
    if len(chosen) > MAX_RESULTS_PER_SIGNAL:
        entry["results_truncated"] = len(chosen) - MAX_RESULTS_PER_SIGNAL
    return entry


def build_payload(
    event_type: str,
    *,
    event: str,
    timestamp: datetime,
    model: str,
    version: str,
    monitor: str,
    run_id: int,
    window_start: datetime,
    window_end: datetime,
    signals: list[dict[str, Any]],
    dashboard_url: str | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON payload of one event (see the module docstring for the fields)."""
    data: dict[str, Any] = {
        "event_id": event,
        "model": model,
        "version": version,
        "monitor": monitor,
        "run_id": run_id,
        "window": {"start": window_start.isoformat(), "end": window_end.isoformat()},
        "signals": signals,
        "dashboard_url": dashboard_link(dashboard_url, model, version, monitor, run_id),
        **(extra or {}),
    }
    return {"type": event_type, "timestamp": timestamp.isoformat(), "data": data}


def encode_body(payload: dict[str, Any]) -> str:
    """Compact, key-sorted JSON: the exact bytes that are signed and sent."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
