"""Outages: PostgreSQL stopped and started under a running API.

While the database is down every write and read answers 503 with
``Retry-After`` (never a bare 500), ``/healthz`` answers 503, and the outage is
logged once when it starts and once when it ends (not per request, no
tracebacks). When the server is back, the same process serves again without a
restart and nothing sent during the outage was stored.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jobs.api import create_app
from monitor.spec.model_version import ModelVersion
from monitor.store import Store
from tests.jobs.private_postgres import PrivatePostgres

MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip
T0 = datetime(2024, 3, 1, tzinfo=UTC)
LOGS = "/api/v1/models/credit/versions/1/logs"


def _rows(start: int, n: int = 10) -> list[dict[str, object]]:
    return [{"request_id": f"r{start + i}", "timestamp": (T0 + timedelta(minutes=start + i)).isoformat(),
             "age": i, "prediction": "1", "score": 0.5} for i in range(n)]  # fmt: skip


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres()
        server.start()
    except Exception as err:  # no PostgreSQL binaries here
        pytest.skip(f"cannot run a private PostgreSQL server: {err}")
    yield server
    server.destroy()


@pytest.mark.postgres
@pytest.mark.slow
def test_store_down_answers_503_logs_once_and_recovers_without_restart(
    postgres: PrivatePostgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store = Store(postgres.url)
    store.migrate()
    store.register_model_version(MV)
    key = store.create_api_key("k")
    headers = {"X-API-Key": key}
    from monitor.ingest.logstore import LogStore

    logs = LogStore(tmp_path / "home")
    with TestClient(create_app(store, logs, max_request_bytes=1_000_000)) as client:
        assert client.post(LOGS, json=_rows(0), headers=headers).status_code == 200
        postgres.stop()
        answers = []
        for i in range(10):
            answers.append(client.post(LOGS, json=_rows(100 + 10 * i), headers=headers))
            answers.append(client.get("/api/v1/runs", headers=headers))
        health = client.get("/healthz")
        assert {r.status_code for r in answers} == {503}
        assert all(r.headers["Retry-After"] == "5" for r in answers)
        assert "unavailable" in answers[0].json()["detail"] and "retry" in answers[0].json()["detail"]
        assert health.status_code == 503 and health.json()["database"]
        postgres.start()
        deadline = time.monotonic() + 30
        while (r := client.post(LOGS, json=_rows(1000), headers=headers)).status_code == 503:
            assert time.monotonic() < deadline, "the API did not recover"
            time.sleep(0.2)
        assert r.status_code == 200 and r.json()["accepted"] == 10
        assert client.get("/api/v1/runs", headers=headers).status_code == 200
        assert client.get("/healthz").status_code == 200
    outage = [rec for rec in caplog.records if rec.name == "raiwatch.outage"]
    assert [rec.levelname for rec in outage] == ["ERROR", "WARNING"], [r.getMessage() for r in outage]
    assert "database unavailable" in outage[0].getMessage()
    assert "database available again" in outage[1].getMessage()
    assert not any(rec.exc_info for rec in caplog.records)  # no traceback per request
    ids = [i for b in logs.scan(MV, columns=["request_id"]) for i in b.column(0).to_pylist()]
    assert sorted(ids) == sorted(f"r{i}" for i in [*range(10), *range(1000, 1010)])
    store.dispose()



def test_a_full_disk_answers_503_and_stores_nothing(store: Store, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from monitor.ingest.logstore import LogStore

    store.register_model_version(MV)
    key = store.create_api_key("k")
    logs = LogStore(tmp_path / "home")

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(LogStore, "_commit", full)
    with TestClient(create_app(store, logs, max_request_bytes=1_000_000)) as client:
        r = client.post(LOGS, json=_rows(0), headers={"X-API-Key": key})
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert "data directory is unavailable" in r.json()["detail"]
    assert list(logs.scan(MV)) == []
