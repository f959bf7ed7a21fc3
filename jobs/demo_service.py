"""The demo's service step: a monitor with a webhook, backfilled over the simulated days.

A local receiver (the example receiver of :mod:`jobs.webhook_receiver`) listens
on loopback and verifies the Standard Webhooks signature of every delivery; the
demo prints the day-by-day table, the alert transitions and what the receiver got.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from jobs.cli_common import console
from jobs.deliverer import Backoff, Deliverer
from jobs.evaluation import EngineEvaluator
from jobs.runner import MonitorRunner
from jobs.webhook_receiver import make_server
from monitor.signals.results import SignalResult
from monitor.spec.monitor import load_monitor_spec
from monitor.spec.settings import Settings
from monitor.store import EndpointSpec, Store

SECRET_ENV = "RAIWATCH_DEMO_HOOK_SECRET"


def _monitor_yaml(
    name: str, url: str, start: dt.datetime, *, retrain_every: str | None = None, challenger: str | None = None
) -> str:
    lifecycle = f"retrain_every: {retrain_every}       # also a scheduled retraining request\n" if retrain_every else ""
    if challenger:
        lifecycle += f'challenger: {{version: "{challenger}", mode: shadow}}\n'
    events = "monitor.alert.firing, monitor.alert.resolved, model.retrain.requested, model.traffic.missing, model.traffic.restored"
    if retrain_every or challenger:
        events += ", model.challenger.better, model.challenger.worse"
    return f"""\
name: {name}
model: credit
version: "1"
schedule: "0 0 * * *"      # every day at midnight UTC
window: 1d                 # each run judges the previous day
cooldown: 0s
start: "{start.isoformat()}"
retrain_on: [dataset_drift, data_drift, performance, concept_drift]
{lifecycle}signals:
  data_drift: {{}}
segments:                  # every listed signal also runs on each employment segment
  - feature: employment
    min_rows: 100
    signals: [data_drift, performance]
webhooks:
  - url: {url}
    secret_env: {SECRET_ENV}
    events: [{events}]
"""


def run_service_step(
    home: Path,
    settings: Settings,
    store: Store,
    *,
    name: str,
    start: dt.datetime,
    days: int,
    drift_day: int,
    concept_days: tuple[int, int],
    challenger_day: int | None = None,
    retrain_every: str | None = None,
    segment_day: int | None = None,
) -> list[dict[str, Any]]:
    """Add the monitor, backfill every day with alerts on, deliver the webhooks.

    With ``challenger_day`` the monitor is updated on that day to compare ``credit:2``
    (in shadow) with the champion for the remaining days.
    """
    received: list[dict[str, Any]] = []
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    server = make_server(
        "127.0.0.1", 0, secret, on_event=lambda mid, p: received.append({"id": mid, **p})
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks/raiwatch"
    runner = MonitorRunner(
        store, EngineEvaluator(store, settings), dashboard_url=settings.dashboard_url
    )
    path = home / "monitor.yaml"
    phases = [(None, 1, days)] if challenger_day is None else [(None, 1, challenger_day), ("2", challenger_day + 1, days)]
    run_ids: list[int] = []
    for challenger, first, last in phases:  # the challenger is deployed on challenger_day
        path.write_text(_monitor_yaml(name, url, start, retrain_every=retrain_every, challenger=challenger))
        spec = load_monitor_spec(path)
        endpoints = [
            EndpointSpec(url=w.url, secret=secret, events=tuple(w.events), timeout_s=5.0, max_attempts=3)
            for w in spec.webhooks
        ]
        store.upsert_monitor(spec.name, spec.model, spec.version, spec.stored_dict(), start_at=start, endpoints=endpoints)
        run_ids += runner.backfill(
            name, start + dt.timedelta(days=first), start + dt.timedelta(days=last), notify=True
        )
    deliverer = Deliverer(store, backoff=Backoff(base_s=0.1, cap_s=1.0), poll_interval_s=0.1)
    try:
        while deliverer.deliver_pending():
            pass
    finally:
        deliverer.stop()
        server.shutdown()
    _print_days(store, run_ids, drift_day, concept_days, segment_day)
    if challenger_day is not None:
        _print_challenger(store, run_ids, challenger_day)
    _print_alerts_and_deliveries(store, name, received)
    (home / "webhooks-received.json").write_text(json.dumps(received, indent=2, default=str))
    return received


def _value(results: Sequence[SignalResult], signal: str, metric: str) -> tuple[float | None, str]:
    for r in results:
        if r.signal == signal and r.metric == metric and r.segment is None:
            return r.value, r.status
    return None, "—"


def _print_days(
    store: Store,
    run_ids: list[int],
    drift_day: int,
    concept_days: tuple[int, int],
    segment_day: int | None = None,
) -> None:
    hidden = (
        f"; from day {segment_day} retirees (12 % of traffic) turn to home loans, employed "
        "applicants away from them: the aggregate mix is unchanged"
        if segment_day is not None
        else ""
    )
    table = Table(
        title=(
            f"credit:1 — daily monitor (concept drift days {concept_days[0]}–{concept_days[1]}: same inputs, "
            f"changed relation to the label; data drift in income and purpose from day {drift_day}{hidden})"
        )
    )
    for col in (
        "day",
        "window",
        "rows",
        "status",
        "drifted features",
        "accuracy",
        "estimated acc.",
        "detectors fired",
        "labels",
        "segment drift",
    ):
        table.add_column(col)
    for day, run_id in enumerate(run_ids):
        run = store.get_run(run_id)
        drifted = [
            r.feature or ""
            for r in run.results
            if r.signal == "data_drift" and r.status == "alert" and r.segment is None
        ]
        segments = sorted(  # data drift found in a segment (``employment=retired: purpose``)
            {
                f"{r.segment}: {r.feature}"
                for r in run.results
                if r.segment and r.signal == "data_drift" and r.status == "alert"
            }
        )
        acc, acc_status = _value(run.results, "performance", "accuracy")
        est, est_status = _value(run.results, "estimated_performance", "accuracy")
        fired = [
            r.metric for r in run.results if r.signal == "concept_drift" and r.status == "alert"
        ]
        coverage = (run.details or {}).get("details", {}).get("label_coverage")
        table.add_row(
            str(day), run.window_start.date().isoformat(), f"{run.row_count:,}",
            f"[{_STYLE.get(run.status, '')}]{run.status}[/]",
            ", ".join(drifted) or "—",
            _fmt(acc, acc_status), _fmt(est, est_status), ", ".join(fired) or "—",
            "—" if coverage is None else f"{coverage:.0%}",
            ", ".join(segments) or "—",
        )  # fmt: skip
    console.print(table)


def _print_challenger(store: Store, run_ids: list[int], challenger_day: int) -> None:
    """Day by day: the paired comparison of credit:2 (shadow) with credit:1 and its verdict."""
    table = Table(title=f"credit:2 in shadow from day {challenger_day}: challenger vs champion on the same requests")
    for col in ("day", "pairs", "credit:1 acc.", "credit:2 acc.", "agreement", "McNemar p (day)",
                "difference (all days)", "interval", "verdict"):  # fmt: skip
        table.add_column(col)
    for day, run_id in enumerate(run_ids):
        result = next((r for r in store.get_run(run_id).results if r.signal == "challenger" and r.status != "no_data"), None)
        if result is None:
            continue
        w, low_high = result.details.get("window", {}), result.details.get("interval", [None, None])
        verdict = str(result.details.get("verdict"))
        table.add_row(
            str(day), f"{w.get('pairs', 0):,}", f"{w.get('champion_accuracy') or 0:.3f}", f"{w.get('challenger_accuracy') or 0:.3f}",
            f"{w.get('agreement_all') or 0:.1%}", f"{w.get('mcnemar_p', 1):.2g}", f"{result.value or 0:+.4f}",
            f"[{low_high[0]:+.3f}, {low_high[1]:+.3f}]", f"[{_STYLE.get(result.status, '')}]{verdict}[/]",
        )  # fmt: skip
    console.print(table)


_STYLE = {
    "ok": "green",
    "alert": "bold red",
    "warning": "yellow",
    "no_data": "dim",
    "error": "magenta",
}


def _fmt(value: float | None, status: str) -> str:
    if value is None:
        return "—"
    return f"[{_STYLE.get(status, '')}]{value:.3f}[/]"


def _print_alerts_and_deliveries(store: Store, name: str, received: list[dict[str, Any]]) -> None:
    events = sorted(store.list_alert_events(name, limit=1000), key=lambda e: (e.window_end, e.id))
    console.print(f"[bold]alert transitions[/] ({len(events)}):")
    for e in events:
        console.print(f"  {e.window_start.date()}  {e.signal:<22} {e.event}")
    deliveries = store.list_deliveries(limit=1000) if hasattr(store, "list_deliveries") else []
    delivered = sum(1 for d in deliveries if getattr(d, "status", "") == "delivered")
    console.print(
        f"[bold]webhooks[/]: {len(deliveries)} enqueued, {delivered} delivered; the local receiver verified "
        f"the signature of {len(received)} distinct messages:"
    )

    def when(msg: dict[str, Any]) -> str:
        return str(msg.get("data", {}).get("window", {}).get("start", ""))

    for msg in sorted(received, key=lambda m: (when(m), str(m.get("type")))):
        data = msg.get("data", {})
        signals = ", ".join(s.get("signal", "?") for s in data.get("signals", []))
        if data.get("reason") == "schedule":
            signals = f"reason: schedule, due {str(data.get('schedule', {}).get('due_at', ''))[:10]}"
        elif data.get("verdict"):
            signals = f"verdict: {data['verdict']}, difference {data.get('evidence', {}).get('difference', 0):+.4f}"
        console.print(escape(f"  {msg.get('type'):<26} window {when(msg)[:10]}  [{signals}]"))
