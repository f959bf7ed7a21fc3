"""A deterministic fake evaluator for runner, scheduler and service tests.

The status of a window is scripted by its end time: ``alert_hours`` lists the
UTC hours whose window ends breach ``data_drift``. Every evaluation is appended
to ``calls`` (and, for subprocess tests, to the file in ``$RAIWATCH_FAKE_CALLS``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from jobs.evaluation import WindowOutcome
from jobs.windows import Window
from monitor.signals.results import SignalResult
from monitor.spec.monitor import MonitorSpec


class FakeEvaluator:
    def __init__(self, alert_minutes: set[int] | None = None, sleep_s: float = 0.0) -> None:
        self.alert_minutes = alert_minutes or set()
        self.sleep_s = sleep_s
        self.calls: list[tuple[str, Window]] = []
        self.fail_on: set[Window] = set()

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        self.calls.append((spec.name, window))
        calls_file = os.environ.get("RAIWATCH_FAKE_CALLS")
        if calls_file:
            with open(calls_file, "a") as fh:
                fh.write(f"{spec.name} {window.start.isoformat()} {window.end.isoformat()}\n")
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if window in self.fail_on:
            raise RuntimeError("log store unreadable")
        alert = window.end.minute in self.alert_minutes or window.end.hour in self.alert_minutes
        status = "alert" if alert else "ok"
        results = [
            SignalResult(
                signal="data_drift",
                feature="age",
                metric="wasserstein",
                value=0.4 if alert else 0.01,
                threshold=0.1,
                status=status,
            ),
            SignalResult(
                signal="data_quality",
                feature="age",
                metric="null_rate",
                value=0.0,
                threshold=0.05,
                status="ok",
            ),
        ]
        return WindowOutcome(status=status, results=results, row_count=100, details={"fake": True})


def factory(store: Any, settings: Any) -> FakeEvaluator:
    """``RAIWATCH_EVALUATOR=tests.jobs.fakes:factory``; minutes from ``$RAIWATCH_FAKE_ALERTS``."""
    minutes = {int(m) for m in os.environ.get("RAIWATCH_FAKE_ALERTS", "").split(",") if m}
    return FakeEvaluator(minutes, sleep_s=float(os.environ.get("RAIWATCH_FAKE_SLEEP", "0")))


class ScanningEvaluator:
    """Reads the window's rows from the log store the way the engine does (a store
    opened per window, then a scan); the status is ``ok`` with the row count."""

    def __init__(self, store: Any, home: Any) -> None:
        self.store = store
        self.home = home

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        from monitor.ingest.logstore import LogStore

        mv = self.store.get_model_version(spec.model, spec.version)
        logs = LogStore(self.home)  # every open runs recover(), as EngineEvaluator's does
        rows = sum(b.num_rows for b in logs.scan(mv, window.start, window.end))
        labels = len(logs.read_labels(mv))
        result = SignalResult(signal="data_quality", feature=None, metric="row_count", value=float(rows), threshold=None, status="ok")
        return WindowOutcome(status="ok", results=[result], row_count=rows, details={"labels": labels})


def wait_for(condition: Any, timeout_s: float = 10.0) -> None:
    """Poll ``condition()`` every 50 ms until it is true; fail after ``timeout_s``."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")
