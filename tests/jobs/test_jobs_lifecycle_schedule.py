"""``retrain_every``: one ``model.retrain.requested`` (reason ``schedule``) per period, across a
restart of the scheduler and the store, re-runs and backfills; delivered signed to a real
loopback receiver. SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jobs.deliverer import Backoff, Deliverer
from jobs.runner import MonitorRunner
from jobs.scheduler import MonitorScheduler
from jobs.webhook_signature import verify_webhook
from monitor.signals.results import SignalResult
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import AlertPolicy, EndpointSpec, Store
from tests.jobs.fakes import FakeEvaluator, wait_for
from tests.jobs.http_receiver import Receiver

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = "whsec_c2NoZWR1bGUtc2VjcmV0LTEyMzQ="
DAY = timedelta(days=1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.url = r.start()  # type: ignore[attr-defined]
    yield r
    r.stop()


def _add_monitor(store: Store, url: str, **extra: object) -> None:
    spec = parse_monitor_spec({"name": "credit-daily", "model": "credit", "version": "1", "schedule": "0 0 * * *",
                               "window": "1d", "retrain_every": "30d", **extra})  # fmt: skip
    store.upsert_monitor(spec.name, "credit", "1", spec.stored_dict(), start_at=T0,
                         endpoints=[EndpointSpec(url, SECRET, events=("model.retrain.requested",))])  # fmt: skip


def _deliver_all(store: Store) -> None:
    deliverer = Deliverer(store, backoff=Backoff(base_s=0.02, cap_s=0.1), lease=timedelta(seconds=5))
    try:
        end = time.monotonic() + 15
        while time.monotonic() < end:
            deliverer.deliver_pending()
            if {d.status for d in store.list_deliveries()} <= {"delivered", "dead"}:
                return
            time.sleep(0.02)
        raise AssertionError(f"deliveries still pending: {store.list_deliveries()}")
    finally:
        deliverer.stop()




def test_schedule_fires_once_per_period_across_a_restart(store: Store, receiver: Receiver) -> None:
    url = receiver.url  # type: ignore[attr-defined]
    _add_monitor(store, url)
    before = store.retrain_schedule("credit-daily", timedelta(days=30))
    assert before is not None and before.next_due_at == T0 + 30 * DAY  # shown before any run
    # The service runs the daily windows ending T0 ... T0 + 45d, then stops.
    first = MonitorRunner(store, FakeEvaluator(), clock=lambda: T0 + 45 * DAY + timedelta(minutes=1))
    assert len(first.catch_up("credit-daily")) == 46
    sched = store.retrain_schedule("credit-daily")
    assert sched is not None and sched.requests == 1 and sched.next_due_at == T0 + 60 * DAY
    url_db = store.engine.url.render_as_string(hide_password=False)
    store.dispose()

    # Restart: a new store connection and a new scheduler catch the monitor up to day 75.
    again = Store(url_db)
    again.migrate()
    runner = MonitorRunner(again, FakeEvaluator(), clock=lambda: T0 + 75 * DAY + timedelta(minutes=1))
    scheduler = MonitorScheduler(again, runner, reconcile_interval_s=0.2, runner_key="lifecycle")
    scheduler.start()
    try:
        wait_for(lambda: again.count_runs("credit-daily") >= 76, timeout_s=30.0)
    finally:
        scheduler.shutdown()
    # Re-running windows that crossed a boundary (alerts on) sends nothing new.
    runner.backfill("credit-daily", T0 + 29 * DAY, T0 + 31 * DAY, notify=True)
    runner.backfill("credit-daily", T0 + 59 * DAY, T0 + 61 * DAY, notify=True)
    _deliver_all(again)

    assert len(receiver.received) == 2
    payloads = []
    for r in receiver.received:
        assert verify_webhook(SECRET, r.headers, r.body) == r.headers["webhook-id"]
        payloads.append(json.loads(r.body))
    assert [p["type"] for p in payloads] == ["model.retrain.requested"] * 2
    assert [p["data"]["reason"] for p in payloads] == ["schedule", "schedule"]
    due = sorted(p["data"]["schedule"]["due_at"] for p in payloads)
    assert due == [(T0 + 30 * DAY).isoformat(), (T0 + 60 * DAY).isoformat()]
    assert sorted(p["data"]["window"]["end"] for p in payloads) == due  # sent by the window reaching it
    assert len(set(receiver.ids())) == 2
    final = again.retrain_schedule("credit-daily")
    assert final is not None and final.requests == 2 and final.next_due_at == T0 + 90 * DAY
    assert final.last_reason == "schedule"
    again.dispose()


def test_an_alert_requested_retraining_stands_for_the_period(store: Store) -> None:
    """retrain_on + retrain_every: a window whose alert already requested retraining (reason
    ``signals``) does not send a second, scheduled request for the period it crosses."""
    store.upsert_monitor("m", "credit", "1", {}, start_at=T0,
                         endpoints=[EndpointSpec("http://127.0.0.1:9/hook", SECRET)])  # fmt: skip
    policy = AlertPolicy(retrain_signals=frozenset({"data_drift"}), retrain_every=timedelta(days=2))
    drift = [SignalResult(signal="data_drift", feature="age", metric="w", value=1.0, threshold=0.1, status="alert")]
    for d in range(4):  # alert in day 1 (crosses the day-2 boundary), nothing else
        results = drift if d == 1 else [r.replace(status="ok", value=0.0) for r in drift]
        store.save_run("m", "credit", "1", T0 + d * DAY, T0 + (d + 1) * DAY, "ok", results, 10, 0.1, {}, policy=policy)
    retrain = [json.loads(d.body) for d in store.claim_deliveries(limit=50) if d.event_type == "model.retrain.requested"]
    reasons = sorted((p["data"]["window"]["end"], p["data"]["reason"]) for p in retrain)
    assert reasons == [((T0 + 2 * DAY).isoformat(), "signals"), ((T0 + 4 * DAY).isoformat(), "schedule")]
    sched = store.retrain_schedule("m")
    assert sched is not None and sched.requests == 2 and sched.next_due_at == T0 + 6 * DAY


def test_removing_retrain_every_stops_the_clock(store: Store) -> None:
    store.upsert_monitor("m", "credit", "1", {}, start_at=T0)
    ok = [SignalResult(signal="data_drift", metric="w", value=0.0, status="ok")]
    store.save_run("m", "credit", "1", T0, T0 + DAY, "ok", ok, 1, 0.1, {}, policy=AlertPolicy(retrain_every=2 * DAY))
    assert store.retrain_schedule("m") is not None
    store.save_run("m", "credit", "1", T0 + DAY, T0 + 2 * DAY, "ok", ok, 1, 0.1, {}, policy=AlertPolicy())
    assert store.retrain_schedule("m") is None and not store.list_deliveries()


def test_turning_retrain_every_on_later_owes_no_past_period(store: Store) -> None:
    store.upsert_monitor("m", "credit", "1", {}, start_at=T0)
    ok = [SignalResult(signal="data_drift", metric="w", value=0.0, status="ok")]
    for d in range(10):  # ten days without a schedule
        store.save_run("m", "credit", "1", T0 + d * DAY, T0 + (d + 1) * DAY, "ok", ok, 1, 0.1, {}, policy=AlertPolicy())
    policy = AlertPolicy(retrain_every=3 * DAY)
    store.save_run("m", "credit", "1", T0 + 10 * DAY, T0 + 11 * DAY, "ok", ok, 1, 0.1, {}, policy=policy)
    sched = store.retrain_schedule("m")
    assert sched is not None and sched.requests == 0 and sched.next_due_at == T0 + 12 * DAY
    store.save_run("m", "credit", "1", T0 + 11 * DAY, T0 + 12 * DAY, "ok", ok, 1, 0.1, {}, policy=policy)
    sched = store.retrain_schedule("m")
    assert sched is not None and sched.requests == 1 and sched.next_due_at == T0 + 15 * DAY
