"""Labels posted over HTTP re-run the stored windows they touch, as ``raiwatch labels ingest`` does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from jobs.api import create_app
from jobs.relabel import rerun_for_labels
from jobs.runner import MonitorRunner
from jobs.service import Service, ServiceOptions
from monitor.spec.model_version import ModelVersion
from monitor.spec.monitor import parse_monitor_spec
from monitor.spec.settings import Settings
from monitor.store import Store
from tests.jobs.fakes import FakeEvaluator

MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _logs(prefix: str, at: datetime, n: int = 5) -> list[dict[str, object]]:
    return [{"request_id": f"{prefix}{i}", "timestamp": (at + timedelta(minutes=i)).isoformat(),
             "age": 30 + i, "prediction": "1", "score": 0.6} for i in range(n)]  # fmt: skip


def test_http_labels_rerun_the_touched_window_and_the_later_ones(store: Store, tmp_path: Path) -> None:
    store.register_model_version(MV)
    spec = parse_monitor_spec({"name": "m", "model": "credit", "version": "1",
                               "schedule": "0 * * * *", "window": "1h"})  # fmt: skip
    store.upsert_monitor("m", "credit", "1", spec.stored_dict(), start_at=T0)
    fake = FakeEvaluator()
    runner = MonitorRunner(store, fake, clock=lambda: T0 + timedelta(hours=4, minutes=5))
    stored = {store.get_run(i).window_start: i for i in runner.catch_up("m")}
    settings = Settings(home=tmp_path / "home", database_url=store.url)
    logs = settings.log_store()
    key = store.create_api_key("k")
    app = create_app(store, logs, max_request_bytes=1_000_000,
                     on_labels=lambda mv, ids: rerun_for_labels(store, settings, mv, ids, runner=runner))  # fmt: skip
    headers = {"X-API-Key": key}
    with TestClient(app) as client:
        url = "/api/v1/models/credit/versions/1"
        for prefix, hour in (("a", 0), ("b", 2)):
            at = T0 + timedelta(hours=hour, minutes=20)
            assert client.post(f"{url}/logs", json=_logs(prefix, at), headers=headers).status_code == 200
        fake.calls.clear()
        r = client.post(f"{url}/labels", json=[{"request_id": f"b{i}", "label": "1"} for i in range(3)],
                        headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    touched = [T0 + timedelta(hours=h) for h in (2, 3)]  # the window of b*, then the later one
    assert [w.start for _, w in fake.calls] == touched
    assert r.json()["rerun_runs"] == 2
    # the runs are re-run in place (same ids), exactly the windows the CLI's function picks
    assert sorted(store.get_run(stored[t]).window_start for t in touched) == touched
    fake.calls.clear()
    cli_ids = rerun_for_labels(store, settings, MV, [f"b{i}" for i in range(3)], runner=runner)
    assert cli_ids == [stored[t] for t in touched]
    assert [w.start for _, w in fake.calls] == touched


def test_serve_wires_label_reruns_into_the_api(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    service = Service(settings, ServiceOptions(reconcile_interval_s=60), evaluator=FakeEvaluator())
    service.store.register_model_version(MV)
    key = service.store.create_api_key("k")
    with TestClient(service.app) as client:
        r = client.post("/api/v1/models/credit/versions/1/labels",
                        json=[{"request_id": "x1", "label": "0"}], headers={"X-API-Key": key})  # fmt: skip
    assert r.status_code == 200 and r.json()["rerun_runs"] == 0  # no stored window holds x1
