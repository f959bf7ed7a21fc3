"""Secrets never reach logs or stored results; SQL is parameterised throughout."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from jobs.deliverer import Backoff, Deliverer
from jobs.runner import MonitorRunner
from monitor.signals.results import SignalResult
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import EndpointSpec, Store
from tests.jobs.fakes import FakeEvaluator
from tests.jobs.http_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 3, 1, tzinfo=UTC)
SECRET = "whsec_bmV2ZXItbG9nLXRoaXMtc2VjcmV0"


def test_secrets_stay_out_of_logs_specs_and_results(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = Receiver(script=["500"])
    url = receiver.start()
    spec = parse_monitor_spec({"name": "s", "model": "credit", "version": "1",
                               "webhooks": [{"url": url, "secret": SECRET}]})  # fmt: skip
    assert SECRET not in repr(spec) and SECRET not in str(spec.stored_dict())
    store.upsert_monitor("s", "credit", "1", spec.stored_dict(), start_at=T0,
                         endpoints=[EndpointSpec(url, SECRET, timeout_s=2)])  # fmt: skip
    key = store.create_api_key("k")
    runner = MonitorRunner(store, FakeEvaluator(alert_minutes={0}), clock=lambda: T0)
    runner.catch_up("s")
    deliverer = Deliverer(store, backoff=Backoff(base_s=0.01, cap_s=0.01))
    try:
        for _ in range(50):
            deliverer.deliver_pending()
            if store.list_deliveries()[0].status == "delivered":
                break
    finally:
        deliverer.stop()
        receiver.stop()
    assert store.list_deliveries()[0].status == "delivered"
    with store.engine.connect() as conn:
        dumped = " ".join(
            str(conn.execute(text(f"SELECT * FROM {t}")).all())  # table names from the inspector
            for t in inspect(conn).get_table_names()
            if t not in ("webhook_endpoints", "api_keys", "apscheduler_jobs")
        )
    logs = caplog.text + " ".join(repr(r.args) for r in caplog.records)
    for secret in (SECRET, SECRET.removeprefix("whsec_"), key, key[3:]):
        assert secret not in dumped
        assert secret not in logs
    assert all(SECRET not in repr(j) for j in store.claim_deliveries())


def test_hostile_strings_round_trip_as_data(store: Store) -> None:
    hostile = "m'); DROP TABLE runs; --"
    results = [
        SignalResult(
            signal="data_drift",
            feature="x' OR '1'='1",
            metric="w",
            value=0.1,
            threshold=0.1,
            status="ok",
            message=hostile,
        )
    ]
    run_id = store.save_run(hostile, "credit", "1", T0, T0 + timedelta(hours=1), "ok", results,
                            1, 0.1, {"note": hostile})  # fmt: skip
    assert store.get_run(run_id).results[0].message == hostile
    assert store.list_runs(monitor=hostile)[0].monitor == hostile
    assert "runs" in inspect(store.engine).get_table_names()


def test_no_sql_is_built_from_strings() -> None:
    pattern = re.compile(
        r"""(text|exec_driver_sql|execute)\(\s*f?["'][^"']*(\{|%s|%\()|\.format\("""
    )
    offenders = []
    for folder in ("monitor/store", "jobs"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line in path.read_text().splitlines():
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    # The one formatted statement: PRAGMA busy_timeout with an int computed from a float.
    assert offenders == [
        'monitor/store/engine.py: cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")'
    ]
