"""Nothing doubled: Idempotency-Key, request ids already stored, files already ingested."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jobs.api import create_app
from jobs.cli import app as cli_app
from jobs.idempotency import IdempotencyKeys
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.store import Store

MV = ModelVersion.model_validate({
    "name": "credit", "version": "1", "task": "binary",
    "features": {"age": "numeric", "purpose": "categorical"}, "scores": ["score"],
})  # fmt: skip
T0 = datetime(2024, 3, 1, tzinfo=UTC)
URL = "/api/v1/models/credit/versions/1/logs"


def _rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"request_id": f"r{start + i}", "timestamp": (T0 + timedelta(minutes=start + i)).isoformat(),
         "age": 30 + i, "purpose": "car", "prediction": "1", "score": 0.7}
        for i in range(n)
    ]  # fmt: skip


def _stored_ids(logs: LogStore) -> list[str]:
    return [i for b in logs.scan(MV, columns=["request_id"]) for i in b.column(0).to_pylist()]


@pytest.fixture
def api(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], LogStore]]:
    store.register_model_version(MV)
    logs = LogStore(tmp_path / "home")
    key = store.create_api_key("test")
    with TestClient(create_app(store, logs, max_request_bytes=1_000_000)) as client:
        yield client, {"X-API-Key": key}, logs


def test_same_key_same_body_replays_the_first_answer_and_stores_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client, headers, logs = api
    first = client.post(URL, json=_rows(20), headers={**headers, "Idempotency-Key": "batch-1"})
    assert first.status_code == 200 and first.json()["accepted"] == 20
    again = client.post(URL, json=_rows(20), headers={**headers, "Idempotency-Key": "batch-1"})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert sorted(_stored_ids(logs)) == sorted(f"r{i}" for i in range(20))


def test_same_key_different_body_is_409_and_stores_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client, headers, logs = api
    assert client.post(URL, json=_rows(5), headers={**headers, "Idempotency-Key": "k"}).status_code == 200
    r = client.post(URL, json=_rows(5, start=100), headers={**headers, "Idempotency-Key": "k"})
    assert r.status_code == 409
    assert "different body" in r.json()["detail"] and "new key" in r.json()["detail"]
    assert len(_stored_ids(logs)) == 5


def test_a_rejected_batch_is_replayed_as_rejected(api) -> None:  # type: ignore[no-untyped-def]
    client, headers, logs = api
    bad = _rows(3)
    bad[1]["timestamp"] = "not a date"
    r1 = client.post(URL, json=bad, headers={**headers, "Idempotency-Key": "bad"})
    r2 = client.post(URL, json=bad, headers={**headers, "Idempotency-Key": "bad"})
    assert r1.status_code == r2.status_code == 422
    assert r1.json() == r2.json()
    assert _stored_ids(logs) == []


def test_retry_without_a_key_stores_each_request_id_once(api) -> None:  # type: ignore[no-untyped-def]
    client, headers, logs = api
    assert client.post(URL, json=_rows(50), headers=headers).json()["duplicates"] == 0
    retry = client.post(URL, json=_rows(50), headers=headers)  # a client retrying after a timeout
    assert retry.status_code == 200
    assert retry.json()["accepted"] == 0 and retry.json()["duplicates"] == 50
    overlap = client.post(URL, json=_rows(10, start=45), headers=headers)  # 5 old, 5 new
    assert overlap.json()["accepted"] == 5 and overlap.json()["duplicates"] == 5
    ids = _stored_ids(logs)
    assert len(ids) == len(set(ids)) == 55


def test_concurrent_writers_of_the_same_batch_store_it_once(tmp_path: Path) -> None:
    logs = LogStore(tmp_path)
    frame = pd.DataFrame(_rows(200))
    reports = []

    def write() -> None:
        reports.append(LogStore(tmp_path).ingest_frame(MV, frame))

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.accepted for r in reports) == [0, 0, 0, 200]
    assert sum(r.duplicates for r in reports) == 600
    assert len(_stored_ids(logs)) == 200


def test_a_key_held_by_a_live_request_is_409_retry_later(tmp_path: Path) -> None:
    keys = IdempotencyKeys(tmp_path)
    running = keys.claim("scope", "k", b"body")
    assert running.action == "run"
    concurrent = keys.claim("scope", "k", b"body")
    assert concurrent.action == "conflict" and "still being processed" in concurrent.reason
    running.finish(200, {"accepted": 1})
    assert keys.claim("scope", "k", b"body").action == "replay"
    # a request that failed with 5xx leaves the key free for a retry
    failed = keys.claim("scope", "k2", b"body")
    failed.finish(503, None)
    assert keys.claim("scope", "k2", b"body").action == "run"


def test_cli_skips_a_file_already_ingested_unless_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    home = tmp_path / "home"
    model = tmp_path / "model.yaml"
    model.write_text(MV.to_yaml())
    data = tmp_path / "day.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in _rows(30)))
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(cli_app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
        return result.output

    cli("model", "register", "-f", str(model))
    assert "accepted 30" in cli("logs", "ingest", str(data), "--model", "credit", "--version", "1")
    second = cli("logs", "ingest", str(data), "--model", "credit", "--version", "1")
    assert "skipped, the same content was already ingested" in second and "--force" in second
    forced = cli("logs", "ingest", str(data), "--model", "credit", "--version", "1", "--force")
    assert "accepted 0" in forced and "skipped 30 row(s) whose request id is already stored" in forced
    assert len(_stored_ids(LogStore(home))) == 30
