"""A run failing on a transient error is retried; if it keeps failing the window stays owed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import jobs.runner as runner_module
from jobs.evaluation import WindowOutcome
from jobs.runner import MonitorRunner
from jobs.windows import Window
from monitor.spec.monitor import MonitorSpec, parse_monitor_spec
from monitor.store import Store
from tests.jobs.fakes import FakeEvaluator

T0 = datetime(2024, 3, 1, tzinfo=UTC)


class Flaky(FakeEvaluator):
    """Raises ``error`` for the first ``failures`` evaluations, then behaves."""

    def __init__(self, error: Exception, failures: int) -> None:
        super().__init__()
        self.error, self.failures = error, failures

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return super().evaluate(spec, window)


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "TRANSIENT_RETRIES_S", (0.0, 0.0))


def _add(store: Store) -> None:
    spec = parse_monitor_spec({"name": "m", "model": "credit", "version": "1",
                               "schedule": "0 * * * *", "window": "1h"})  # fmt: skip
    store.upsert_monitor("m", "credit", "1", spec.stored_dict(), start_at=T0)


def test_a_file_swapped_mid_scan_is_retried_and_the_window_stored_ok(store: Store) -> None:
    _add(store)
    flaky = Flaky(FileNotFoundError(2, "No such file", "part-1.parquet"), failures=2)
    runner = MonitorRunner(store, flaky, clock=lambda: T0 + timedelta(hours=1, minutes=5))
    ids = runner.catch_up("m")
    assert [store.get_run(i).status for i in ids] == ["ok", "ok"]


def test_a_store_that_stays_down_leaves_the_window_owed_not_errored(store: Store) -> None:
    _add(store)
    flaky = Flaky(FileNotFoundError(2, "No such file", "part-1.parquet"), failures=3)
    runner = MonitorRunner(store, flaky, clock=lambda: T0 + timedelta(hours=1, minutes=5))
    assert runner.catch_up("m") == []  # 3 attempts failed: nothing stored, catch-up stopped
    assert store.list_runs(monitor="m") == []
    assert store.get_monitor("m").last_completed_end is None
    ids = runner.catch_up("m")  # the next catch-up (the scheduler's reconcile) runs it
    assert [store.get_run(i).status for i in ids] == ["ok", "ok"]


def test_a_bug_is_stored_as_an_error_run_at_once(store: Store) -> None:
    _add(store)
    flaky = Flaky(KeyError("no such column"), failures=1)
    runner = MonitorRunner(store, flaky, clock=lambda: T0 + timedelta(minutes=5))
    ids = runner.catch_up("m")
    run = store.get_run(ids[0])
    assert run.status == "error" and "KeyError" in run.details["error"]
