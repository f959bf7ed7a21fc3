"""Several service processes ingesting into one model at once: every row stored once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.store import Store
from tests.jobs.service_process import ServiceProcess

pytestmark = pytest.mark.slow
MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _batch(client: int, batch: int, size: int) -> list[dict[str, object]]:
    return [
        {"request_id": f"c{client}-b{batch}-{i}",
         "timestamp": (T0 + timedelta(hours=client, minutes=batch, seconds=i)).isoformat(),
         "age": i, "prediction": "1", "score": 0.5}
        for i in range(size)
    ]  # fmt: skip


def test_concurrent_ingestion_through_two_processes(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    store.migrate()
    store.register_model_version(MV)
    key = store.create_api_key("load")
    env = {"RAIWATCH_EVALUATOR": "tests.jobs.fakes:factory"}
    services = [ServiceProcess(tmp_path, db_url, env) for _ in range(2)]
    errors: list[str] = []

    def client(n: int) -> None:
        base = services[n % 2].url
        with httpx.Client(timeout=30) as http:
            for b in range(4):
                r = http.post(f"{base}/api/v1/models/credit/versions/1/logs",
                              json=_batch(n, b, 150), headers={"X-API-Key": key})  # fmt: skip
                if r.status_code != 200 or r.json()["accepted"] != 150:
                    errors.append(r.text)

    try:
        for s in services:
            s.wait_healthy()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in services:
            s.stop()
    assert errors == []
    ids = [i for batch in LogStore(tmp_path).scan(MV, columns=["request_id"])
           for i in batch.column(0).to_pylist()]  # fmt: skip
    assert len(ids) == 6 * 4 * 150
    assert len(set(ids)) == len(ids)
    store.dispose()
