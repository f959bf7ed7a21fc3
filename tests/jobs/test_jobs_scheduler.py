"""APScheduler jobs live in the store's database and catch monitors up on start."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from jobs.runner import MonitorRunner
from jobs.scheduler import MonitorScheduler
from jobs.windows import due_windows
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import Store
from tests.jobs.fakes import FakeEvaluator, wait_for


def test_scheduler_persists_jobs_and_catches_up_on_start(store: Store) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(minutes=5)
    for name, schedule in (("every-minute", "* * * * *"), ("hourly", "0 * * * *")):
        spec = parse_monitor_spec({"name": name, "model": "credit", "version": "1",
                                   "schedule": schedule, "window": "1m", "delay": "1s"})  # fmt: skip
        store.upsert_monitor(name, "credit", "1", spec.stored_dict(), start_at=start)
    store.upsert_monitor("off", "credit", "1", spec.stored_dict() | {"name": "off"}, start_at=start)
    store.set_monitor_enabled("off", False)
    expected = len(due_windows(spec.model_copy(update={"schedule": "* * * * *"}), cursor=None,
                               start_at=start, now=now))  # fmt: skip
    fake = FakeEvaluator()
    scheduler = MonitorScheduler(store, MonitorRunner(store, fake), reconcile_interval_s=0.2,
                                 runner_key="test")  # fmt: skip
    scheduler.start()
    try:
        wait_for(lambda: store.count_runs("every-minute") >= expected)
        with store.engine.connect() as conn:
            ids = sorted(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
        assert ids == ["monitor:every-minute", "monitor:hourly"]
        job = scheduler.scheduler.get_job("monitor:every-minute")
        assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time == 600
        store.set_monitor_enabled("hourly", False)
        wait_for(lambda: scheduler.scheduler.get_job("monitor:hourly") is None)
    finally:
        scheduler.shutdown()
    ends = [w.end for name, w in fake.calls if name == "every-minute"]
    assert ends == sorted(set(ends))  # in order, each once
    assert store.count_runs("off") == 0


def test_shutdown_never_deadlocks_with_a_running_reconcile(store: Store) -> None:
    """APScheduler's shutdown holds its job-store lock while waiting for jobs; a reconcile
    that reaches add_job at that moment used to hang shutdown forever (seen in CI)."""
    import threading

    scheduler = MonitorScheduler(store, MonitorRunner(store, FakeEvaluator()), reconcile_interval_s=60,
                                 runner_key="deadlock")  # fmt: skip
    in_reconcile = threading.Event()

    def slow_lagging(now: datetime | None = None) -> list[str]:
        in_reconcile.set()
        time.sleep(1.0)  # shutdown starts meanwhile; then the reconcile calls add_job
        return ["m"]

    scheduler.lagging_monitors = slow_lagging  # type: ignore[method-assign]
    scheduler.start()
    assert in_reconcile.wait(10)
    stopper = threading.Thread(target=scheduler.shutdown)
    stopper.start()
    stopper.join(20)
    assert not stopper.is_alive(), "scheduler.shutdown() deadlocked"
