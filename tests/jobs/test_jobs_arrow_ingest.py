"""Columnar ingestion: an Arrow IPC stream body, validated and deduplicated like JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from fastapi.testclient import TestClient

from jobs.api import create_app
from jobs.ingest import ARROW_STREAM
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.store import Store

MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric", "purpose": "categorical"},
                                  "scores": ["score"]})  # fmt: skip
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_arrow_stream_batches_are_stored_once_and_garbage_is_422(store: Store, tmp_path: Path) -> None:
    store.register_model_version(MV)
    logs = LogStore(tmp_path)
    key = store.create_api_key("k")
    n = 300
    table = pa.table({
        "request_id": [f"r{i}" for i in range(n)],
        "timestamp": pa.array([T0 + timedelta(seconds=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
        "age": [float(i % 90) for i in range(n)], "purpose": ["car"] * n,
        "prediction": ["1"] * n, "score": [0.5] * n,
    })  # fmt: skip
    headers = {"X-API-Key": key, "content-type": ARROW_STREAM}
    url = "/api/v1/models/credit/versions/1/logs"
    with TestClient(create_app(store, logs, max_request_bytes=1_000_000)) as client:
        first = client.post(url, content=_stream(table), headers=headers)
        again = client.post(url, content=_stream(table), headers=headers)
        bad = client.post(url, content=b"\x00not arrow", headers=headers)
    assert first.status_code == 200 and first.json()["accepted"] == n
    assert again.json()["accepted"] == 0 and again.json()["duplicates"] == n
    assert bad.status_code == 422 and "not an Arrow IPC stream" in bad.json()["detail"]
    stored = [t for b in logs.scan(MV, columns=["timestamp"]) for t in b.column(0).to_pylist()]
    assert sorted(stored) == [T0 + timedelta(seconds=i) for i in range(n)]
