"""Runs: idempotent per window, catch-up after a stop, one runner per monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.runner import MonitorRunner
from jobs.windows import Window
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import Store
from tests.jobs.fakes import FakeEvaluator

T0 = datetime(2024, 3, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _add(store: Store, **extra: object) -> None:
    spec = parse_monitor_spec({"name": "m1", "model": "credit", "version": "1",
                               "schedule": "0 * * * *", "window": "1h", "cooldown": "0s",
                               "retrain_on": ["data_drift"], **extra})  # fmt: skip
    store.upsert_monitor("m1", "credit", "1", spec.stored_dict(), start_at=T0)


def test_catch_up_runs_each_missed_window_once_in_order(store: Store) -> None:
    _add(store)
    fake, clock = FakeEvaluator(alert_minutes={2}), Clock(T0 + timedelta(hours=3, minutes=5))
    runner = MonitorRunner(store, fake, clock=clock, owner="a")
    ids = runner.catch_up("m1")
    assert [w.end for _, w in fake.calls] == [T0 + timedelta(hours=h) for h in range(4)]
    assert len(ids) == 4 and store.get_monitor("m1").last_completed_end == T0 + timedelta(hours=3)
    assert runner.catch_up("m1") == []  # nothing owed: nothing re-run
    clock.now += timedelta(hours=2)
    runner.catch_up("m1")
    assert [w.end.hour for _, w in fake.calls] == [0, 1, 2, 3, 4, 5]
    assert {r.executions for r in store.list_runs(monitor="m1")} == {1}
    events = [(e.event, e.window_end.hour) for e in reversed(store.list_alert_events("m1"))]
    assert events == [("firing", 2), ("resolved", 3)]


def test_rerunning_a_window_replaces_it_without_new_alerts(store: Store) -> None:
    _add(store, webhooks=[{"url": "http://127.0.0.1:9/h", "secret": "s"}])
    spec = MonitorRunner(store, FakeEvaluator()).spec("m1")
    runner = MonitorRunner(store, FakeEvaluator(alert_minutes={1}))
    window = Window(T0, T0 + timedelta(hours=1))
    first = runner.run_window(spec, window)
    deliveries = store.list_deliveries()
    assert runner.run_window(spec, window) == first
    assert store.get_run(first).executions == 2
    assert store.list_deliveries() == deliveries and len(store.list_alert_events()) == 1


def test_failed_evaluation_is_stored_as_an_error_run(store: Store) -> None:
    _add(store)
    fake = FakeEvaluator()
    window = Window(T0 - timedelta(hours=1), T0)
    fake.fail_on.add(window)
    runner = MonitorRunner(store, fake, clock=Clock(T0 + timedelta(minutes=1)))
    (run_id,) = runner.catch_up("m1")
    run = store.get_run(run_id)
    assert run.status == "error"
    assert run.results[0].status == "error"
    assert run.results[0].message == "RuntimeError: log store unreadable"
    assert store.list_alert_states() == []


def test_a_held_lease_keeps_other_runners_out(store: Store) -> None:
    _add(store)
    clock = Clock(T0 + timedelta(hours=2))
    assert store.acquire_lease("m1", "other", timedelta(minutes=5))
    fake = FakeEvaluator()
    assert MonitorRunner(store, fake, clock=clock, owner="me").catch_up("m1") == []
    assert fake.calls == []
    store.release_lease("m1", "other")
    assert len(MonitorRunner(store, fake, clock=clock, owner="me").catch_up("m1")) == 3


def test_backfill_does_not_notify_or_move_alerts(store: Store) -> None:
    _add(store, webhooks=[{"url": "http://127.0.0.1:9/h", "secret": "s"}])
    seen: list[int] = []
    runner = MonitorRunner(store, FakeEvaluator(alert_minutes={0, 1, 2}))
    ids = runner.backfill("m1", T0, T0 + timedelta(hours=2), progress=lambda w, i: seen.append(i))
    assert len(ids) == 3 and seen == [1, 2, 3]
    assert store.list_deliveries() == [] and store.list_alert_states() == []
