"""PostgreSQL unreachable mid-run, then back: health says so, nothing is skipped or lost.

The outage is simulated with a TCP proxy in front of the shared server, so the
server itself is never stopped.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from jobs.service import Service, ServiceOptions
from monitor.spec.monitor import parse_monitor_spec
from monitor.spec.settings import Settings
from monitor.store import EndpointSpec, Store
from tests.jobs.fakes import FakeEvaluator
from tests.jobs.http_receiver import Receiver
from tests.jobs.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _until(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_database_outage_mid_run_then_recovery(pg_schema_url: str, tmp_path: Path) -> None:
    url = make_url(pg_schema_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.up()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    direct = Store(pg_schema_url)
    direct.migrate()
    receiver = Receiver()
    hook = receiver.start()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=12)
    spec = parse_monitor_spec({"name": "pg", "model": "credit", "version": "1",
                               "schedule": "* * * * *", "window": "1m", "cooldown": "0s"})  # fmt: skip
    direct.upsert_monitor("pg", "credit", "1", spec.stored_dict(), start_at=start,
                          endpoints=[EndpointSpec(hook, "s", timeout_s=2)])  # fmt: skip
    fake = FakeEvaluator(alert_minutes=set(range(0, 60, 2)), sleep_s=0.2)
    settings = Settings(home=tmp_path, database_url=proxied)
    options = ServiceOptions(backoff_base_s=0.05, backoff_cap_s=0.5, delivery_poll_s=0.1,
                             reconcile_interval_s=0.3, run_lease_s=2)  # fmt: skip
    service = Service(settings, options, evaluator=fake)
    try:
        with TestClient(service.app) as client:
            _until(lambda: direct.count_runs("pg") >= 3, 30, "first runs")
            proxy.down()
            time.sleep(0.5)
            assert client.get("/healthz").status_code == 503
            time.sleep(1.5)
            proxy.up()
            _until(lambda: client.get("/healthz").status_code == 200, 30, "health")
            _until(lambda: direct.count_runs("pg") >= 13 and all(
                d.status == "delivered" for d in direct.list_deliveries(limit=500)), 60,
                "catch-up and deliveries after the outage")  # fmt: skip
    finally:
        proxy.down()
        receiver.stop()
    runs = sorted(direct.list_runs(monitor="pg", limit=100), key=lambda r: r.window_end)
    ends = [r.window_end for r in runs]
    assert ends[:13] == [start + timedelta(minutes=i) for i in range(13)]
    assert sum(r.executions - 1 for r in runs) <= 1  # at most a commit whose ack was lost
    deliveries = direct.list_deliveries(limit=500)
    assert set(receiver.ids()) == {d.message_id for d in deliveries}
    direct.dispose()
