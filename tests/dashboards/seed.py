"""Seed a demo store with what the demo does not write: webhook deliveries to endpoints
that fail (one delivered, one dead-lettered), a failed run, a version without runs and
windows without traffic after the demo's last day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from monitor.signals.results import SignalResult
from monitor.spec.model_version import parse_model_version
from monitor.store import AlertPolicy, EndpointSpec, Store

MONITOR = "credit-daily"
# The demo's own monitor already delivered its webhooks; a shadow monitor replays the
# same runs through the alert policy to fake endpoints, one healthy and one down.
SHADOW = "credit-daily-shadow"
FAILED_MONITOR = "churn-hourly"


def seed_alerts_and_webhooks(store: Store) -> None:
    """Replay the demo's runs through the alert policy and fake two deliveries' attempts."""
    runs = sorted(store.list_runs(monitor=MONITOR, limit=10_000), key=lambda r: r.window_end)
    store.upsert_monitor(
        SHADOW,
        "credit",
        "1",
        {"name": SHADOW},
        start_at=runs[0].window_start,
        endpoints=[
            EndpointSpec(url="http://127.0.0.1:9/retrain", secret="whsec_test", max_attempts=2),
            EndpointSpec(url="http://127.0.0.1:9/chatops", secret="whsec_test2", max_attempts=2),
        ],
    )
    policy = AlertPolicy(retrain_signals=frozenset({"data_drift"}))
    for run in runs:
        full = store.get_run(run.id)
        store.save_run(
            SHADOW,
            run.model_name,
            run.model_version,
            run.window_start,
            run.window_end,
            run.status,
            list(full.results),
            run.row_count,
            run.duration_s,
            run.details,
            policy=policy,
        )
    now = dt.datetime.now(dt.UTC)
    for attempt in (1, 2):
        jobs = store.claim_deliveries(limit=100, now=now + dt.timedelta(hours=attempt))
        for job in jobs:
            ok = job.url.endswith("chatops") and attempt == 1
            store.record_attempt(
                job,
                started_at=now + dt.timedelta(hours=attempt),
                duration_s=0.05 * attempt + 0.01 * job.id,
                status_code=200 if ok else 503,
                error=None if ok else "HTTP 503 Service Unavailable",
                delivered=ok,
                next_attempt_at=now + dt.timedelta(hours=attempt, minutes=1),
            )


def seed_failed_and_empty_versions(store: Store) -> None:
    """``churn:2`` whose only run failed, and ``fraud:3`` with no run at all."""
    for name, version in (("churn", "2"), ("fraud", "3")):
        store.register_model_version(
            parse_model_version(
                {
                    "name": name,
                    "version": version,
                    "task": "binary",
                    "features": {"tenure": "numeric"},
                    "scores": ["score"],
                },
                source="test",
            )
        )
    start = dt.datetime(2026, 10, 28, tzinfo=dt.UTC)
    failure = SignalResult(
        signal="run",
        feature=None,
        metric="exception",
        value=None,
        threshold=None,
        status="error",
        message="CorruptFileError: unreadable log file",
    )
    store.save_run(
        FAILED_MONITOR,
        "churn",
        "2",
        start,
        start + dt.timedelta(hours=1),
        "error",
        [failure],
        0,
        0.01,
        {"error": "CorruptFileError: the log store of churn:2 has an unreadable file"},
    )


def seed_quiet_windows(home: Path, store: Store, *, first_day: int, days: int) -> list[int]:
    """Run the demo monitor, alerts on, over ``days`` windows after the demo's last day in
    which no row was logged: the real runner stores them as ``no_data`` runs."""
    from jobs.demo import START
    from jobs.evaluation import EngineEvaluator
    from jobs.runner import MonitorRunner
    from monitor.spec.settings import load_settings

    settings = load_settings(env={"RAIWATCH_HOME": str(home)})
    runner = MonitorRunner(store, EngineEvaluator(store, settings))
    first = START + dt.timedelta(days=first_day + 1)
    return runner.backfill(MONITOR, first, first + dt.timedelta(days=days - 1), notify=True)


def seed_all(
    store: Store, home: Path | None = None, *, demo_days: int = 0, quiet_days: int = 0
) -> None:
    seed_alerts_and_webhooks(store)
    seed_failed_and_empty_versions(store)
    if home is not None and quiet_days:
        seed_quiet_windows(home, store, first_day=demo_days, days=quiet_days)
