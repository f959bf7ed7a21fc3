"""SIGKILL mid-run and mid-delivery, then restart: nothing skipped, run twice or lost."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from jobs.webhook_signature import verify_webhook
from jobs.windows import due_windows
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import EndpointSpec, Store
from tests.jobs.http_receiver import Receiver
from tests.jobs.service_process import ServiceProcess

SECRET = "whsec_Y3Jhc2gtdGVzdC1zZWNyZXQ="
pytestmark = pytest.mark.slow


def _until(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_run_and_mid_delivery_then_restart(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    store.migrate()
    receiver = Receiver(script=["hang"], hang_s=4.0)
    url = receiver.start()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=15)
    spec = parse_monitor_spec({"name": "crash", "model": "credit", "version": "1",
                               "schedule": "* * * * *", "window": "1m", "cooldown": "0s",
                               "retrain_on": ["data_drift"]})  # fmt: skip
    store.upsert_monitor("crash", "credit", "1", spec.stored_dict(), start_at=start,
                         endpoints=[EndpointSpec(url, SECRET, timeout_s=10, max_attempts=20)])  # fmt: skip
    calls = tmp_path / "calls.txt"
    env = {"RAIWATCH_EVALUATOR": "tests.jobs.fakes:factory", "RAIWATCH_FAKE_SLEEP": "0.25",
           "RAIWATCH_FAKE_CALLS": str(calls),
           "RAIWATCH_FAKE_ALERTS": ",".join(str(m) for m in range(0, 60, 2))}  # fmt: skip
    first = ServiceProcess(tmp_path, db_url, env)
    try:
        first.wait_healthy()
        _until(lambda: store.count_runs("crash") >= 4 and len(receiver.received) >= 1, 30,
               "runs and an in-flight delivery")  # fmt: skip
        first.kill()  # mid-run (each window takes 0.25 s) and mid-delivery (receiver hangs 4 s)
        killed_at_runs = store.count_runs("crash")
        in_flight = {d.message_id for d in store.list_deliveries() if d.status == "sending"}
        assert in_flight  # the hanging request was cut by the kill
        assert 0 < killed_at_runs < 16
        second = ServiceProcess(tmp_path, db_url, env)
        try:
            second.wait_healthy()

            def done() -> bool:
                owed = due_windows(spec, cursor=None, start_at=start, now=datetime.now(UTC))
                deliveries = store.list_deliveries(limit=1000)
                return store.count_runs("crash") >= len(owed) and all(
                    d.status == "delivered" for d in deliveries
                )

            _until(done, 60, "catch-up and deliveries")
        finally:
            second.stop()
    finally:
        first.stop()
        receiver.stop()
    runs = sorted(store.list_runs(monitor="crash", limit=1000), key=lambda r: r.window_end)
    ends = [r.window_end for r in runs]
    assert ends[0] == start
    assert all(b - a == timedelta(minutes=1) for a, b in pairwise(ends))  # no gap
    assert {r.executions for r in runs} == {1}  # no window stored twice
    evaluated = Counter(calls.read_text().splitlines())
    assert sum(n - 1 for n in evaluated.values()) <= 1  # only the window in flight was redone
    deliveries = store.list_deliveries(limit=1000)
    assert deliveries and {d.status for d in deliveries} == {"delivered"}
    received = Counter(receiver.ids())
    assert set(received) == {d.message_id for d in deliveries}  # every webhook delivered
    repeated = {i for i, n in received.items() if n > 1}
    assert repeated <= in_flight  # only messages in flight at the kill came twice
    assert all(n <= 2 for n in received.values())
    for r in receiver.received:
        verify_webhook(SECRET, r.headers, r.body)
    store.dispose()
