"""The HTTP API: authenticated all-or-nothing ingestion, read endpoints, health, metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jobs.api import create_app
from monitor.ingest.logstore import LogStore
from monitor.signals.results import SignalResult
from monitor.spec.model_version import ModelVersion
from monitor.store import AlertPolicy, EndpointSpec, Store

MV = ModelVersion.model_validate({
    "name": "credit", "version": "1", "task": "binary",
    "features": {"age": "numeric", "purpose": "categorical"}, "scores": ["score"],
})  # fmt: skip
T0 = datetime(2024, 3, 1, tzinfo=UTC)
SECRET = "whsec_c3VwZXItc2VjcmV0LXZhbHVl"


def _rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"request_id": f"r{start + i}", "timestamp": (T0 + timedelta(minutes=i)).isoformat(),
         "age": 30 + i, "purpose": "car", "prediction": "1", "score": 0.7}
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, str, LogStore]]:
    store.register_model_version(MV)
    logs = LogStore(tmp_path / "home")
    key = store.create_api_key("test")
    app = create_app(store, logs, max_request_bytes=20_000)
    with TestClient(app) as c:
        yield c, key, logs


def _count(logs: LogStore) -> int:
    return sum(b.num_rows for b in logs.scan(MV))


def test_ingest_json_and_ndjson(client: tuple[TestClient, str, LogStore]) -> None:
    c, key, logs = client
    url = "/api/v1/models/credit/versions/1/logs"
    r = c.post(url, json=_rows(5), headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 5, "ignored_columns": [], "with_type_errors": 0, "duplicates": 0}
    body = "\n".join(json.dumps(row) for row in _rows(3, start=100))
    r = c.post(
        url, content=body, headers={"X-API-Key": key, "content-type": "application/x-ndjson"}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 3
    r = c.post(url, json={"rows": _rows(2, start=200)}, headers={"X-API-Key": key})
    assert r.status_code == 200
    assert _count(logs) == 10


def test_invalid_rows_reject_the_whole_batch(client: tuple[TestClient, str, LogStore]) -> None:
    c, key, logs = client
    rows = _rows(4)
    rows[1]["timestamp"] = "not a date"
    rows[3]["request_id"] = None
    r = c.post("/api/v1/models/credit/versions/1/logs", json=rows, headers={"X-API-Key": key})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("2 of 4 rows are invalid; nothing was stored")
    assert [e["row"] for e in body["errors"]] == [1, 3]
    assert body["errors"][0]["reason"].startswith("invalid_timestamp")
    assert body["errors"][1]["reason"].startswith("missing_request_id")
    assert _count(logs) == 0


def test_missing_column_bad_json_too_large_and_auth(
    client: tuple[TestClient, str, LogStore],
) -> None:
    c, key, logs = client
    url = "/api/v1/models/credit/versions/1/logs"
    rows = [{k: v for k, v in row.items() if k != "score"} for row in _rows(2)]
    r = c.post(url, json=rows, headers={"X-API-Key": key})
    assert r.status_code == 422 and "score" in r.json()["detail"]
    r = c.post(url, content=b"{not json", headers={"X-API-Key": key})
    assert r.status_code == 422 and "not JSON" in r.json()["detail"]
    r = c.post(url, json=_rows(300), headers={"X-API-Key": key})
    assert r.status_code == 413
    assert c.post(url, json=_rows(1)).status_code == 401
    assert c.post(url, json=_rows(1), headers={"X-API-Key": key + "x"}).status_code == 401
    r = c.post("/api/v1/models/credit/versions/9/logs", json=_rows(1), headers={"X-API-Key": key})
    assert r.status_code == 404 and "known versions" in r.json()["detail"]
    assert _count(logs) == 0


def test_labels_ingestion(client: tuple[TestClient, str, LogStore]) -> None:
    c, key, logs = client
    labels = [{"request_id": "r1", "label": "1"}, {"request_id": "r2", "label": "0"}]
    r = c.post("/api/v1/models/credit/versions/1/labels", json=labels, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    assert sorted(logs.read_labels(MV)["request_id"]) == ["r1", "r2"]


def test_read_endpoints_health_metrics_openapi_and_no_secrets(
    client: tuple[TestClient, str, LogStore], store: Store
) -> None:
    c, key, _ = client
    store.upsert_monitor("m1", "credit", "1", {"name": "m1"}, start_at=T0,
                         endpoints=[EndpointSpec("http://127.0.0.1:9/h", SECRET)])  # fmt: skip
    run_id = store.save_run("m1", "credit", "1", T0, T0 + timedelta(hours=1), "alert",
                            [SignalResult(signal="data_drift", feature="age", metric="wasserstein", value=0.25, threshold=0.1, status="alert")],
                            7, 0.5, {}, policy=AlertPolicy())  # fmt: skip
    h = {"X-API-Key": key}
    assert c.get("/api/v1/models", headers=h).json()[0]["name"] == "credit"
    assert c.get("/api/v1/runs", headers=h).json()[0]["id"] == run_id
    run = c.get(f"/api/v1/runs/{run_id}", headers=h).json()
    assert run["results"][0]["value"] == 0.25
    assert c.get("/api/v1/runs/999", headers=h).status_code == 404
    assert c.get("/api/v1/alerts", headers=h).json()[0]["state"] == "firing"
    assert c.get("/api/v1/alerts/events", headers=h).json()[0]["event"] == "firing"
    assert c.get("/api/v1/webhooks/deliveries", headers=h).json()[0]["status"] == "pending"
    monitors = c.get("/api/v1/monitors", headers=h)
    assert monitors.json()[0]["webhooks"][0]["url"] == "http://127.0.0.1:9/h"
    assert c.get("/api/v1/runs").status_code == 401
    assert c.get("/healthz").json() == {"status": "ok"}
    assert c.get("/metrics").status_code == 401  # behind a key unless metrics_public
    metrics = c.get("/metrics", headers=h).text
    assert 'raiwatch_signal_value{monitor="m1",model="credit",version="1",signal="data_drift",' \
           'feature="age",metric="wasserstein"} 0.25' in metrics  # fmt: skip
    assert 'raiwatch_signal_status_code{monitor="m1",model="credit",version="1",' \
           'signal="data_drift",feature="age",metric="wasserstein"} 2' in metrics  # fmt: skip
    assert 'raiwatch_alert_firing{monitor="m1",signal="data_drift"} 1' in metrics
    assert 'raiwatch_webhook_deliveries{status="pending"} 1' in metrics
    assert 'raiwatch_webhook_deliveries{status="dead"} 0' in metrics
    assert 'raiwatch_run_duration_seconds{monitor="m1",model="credit",version="1"} 0.5' in metrics
    paths = c.get("/openapi.json").json()["paths"]
    assert "/api/v1/models/{model}/versions/{version}/logs" in paths
    everything = "".join(
        c.get(p, headers=h).text
        for p in ("/api/v1/monitors", "/api/v1/webhooks/deliveries", "/metrics", "/api/v1/runs")
    )
    for secret in (SECRET, SECRET.removeprefix("whsec_"), key, key[3:]):
        assert secret not in everything


def test_metrics_can_be_made_public(store: Store, tmp_path: Path) -> None:
    app = create_app(store, LogStore(tmp_path), max_request_bytes=1000, metrics_public=True)
    with TestClient(app) as c:
        r = c.get("/metrics")
    assert r.status_code == 200 and "raiwatch_webhook_deliveries" in r.text


def test_docs_and_redoc_work_offline(client: tuple[TestClient, str, LogStore]) -> None:
    """Both pages load every script and stylesheet from this service, never from a CDN."""
    import re

    c, _, _ = client
    for page in ("/docs", "/redoc"):
        html = c.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        for url in assets:
            assert url.startswith("/"), f"{page} loads {url} from another host"
            r = c.get(url)
            assert r.status_code == 200 and len(r.content) > 1000, url
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html


def test_openapi_documents_request_bodies_and_the_bearer_scheme(
    client: tuple[TestClient, str, LogStore],
) -> None:
    from jobs import __version__

    c, _, _ = client
    spec = c.get("/openapi.json").json()
    assert spec["info"]["version"] == __version__
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an API key from `raiwatch apikey create NAME`",
    }
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key"
    for kind in ("logs", "labels"):
        op = spec["paths"][f"/api/v1/models/{{model}}/versions/{{version}}/{kind}"]["post"]
        content = op["requestBody"]["content"]
        assert set(content) == {"application/json", "application/x-ndjson", "application/vnd.apache.arrow.stream"}
        assert content["application/json"]["schema"]["oneOf"][0]["type"] == "array"
        assert {"HTTPBearer": []} in op["security"]
        assert "422" in op["responses"]
    assert {"HTTPBearer": []} in spec["paths"]["/api/v1/runs"]["get"]["security"]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_a_non_bearer_authorization_is_refused(client: tuple[TestClient, str, LogStore]) -> None:
    c, key, _ = client
    r = c.get("/api/v1/runs", headers={"Authorization": f"Basic {key}"})
    assert r.status_code == 401
    assert "Authorization: Bearer" in r.json()["detail"]
    assert c.get("/api/v1/runs", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def _series(text: str) -> dict[str, float]:
    """``name{labels}`` → value for every sample line of a Prometheus text body."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def test_metrics_keep_their_series_through_a_status_change_and_an_empty_window(
    client: tuple[TestClient, str, LogStore], store: Store
) -> None:
    """ok → alert → a window without rows: the same series all along (no state in labels),
    the signal gauges stay at the last window with data, and the empty window shows up
    in its own gauges."""
    c, key, _ = client
    store.upsert_monitor("m1", "credit", "1", {"name": "m1"}, start_at=T0)
    bodies = []
    for hour, (status, rows) in enumerate([("ok", 7), ("alert", 7), ("no_data", 0)]):
        value = {"ok": 0.01, "alert": 0.4, "no_data": 0.0}[status]
        result = SignalResult(signal="data_drift", feature="age", metric="wasserstein", value=value, threshold=0.1, status=status)
        start = T0 + hour * timedelta(hours=1)
        store.save_run("m1", "credit", "1", start, start + timedelta(hours=1), status, [result],
                       rows, 0.5, {}, policy=AlertPolicy())  # fmt: skip
        bodies.append(_series(c.get("/metrics", headers={"Authorization": f"Bearer {key}"}).text))
    assert set(bodies[0]) <= set(bodies[1]) == set(bodies[2])  # the alert only adds alert series
    value = ('raiwatch_signal_value{monitor="m1",model="credit",version="1",'
             'signal="data_drift",feature="age",metric="wasserstein"}')  # fmt: skip
    assert [b[value] for b in bodies] == [0.01, 0.4, 0.4]  # the empty window wipes nothing
    labels = '{monitor="m1",model="credit",version="1"}'
    assert bodies[2][f"raiwatch_run_rows{labels}"] == 7
    assert bodies[2][f"raiwatch_empty_windows{labels}"] == 1
    assert (
        bodies[2][f"raiwatch_last_data_window_end_timestamp_seconds{labels}"]
        == (T0 + timedelta(hours=2)).timestamp()
    )
    assert (
        bodies[2][f"raiwatch_last_run_window_end_timestamp_seconds{labels}"]
        == (T0 + timedelta(hours=3)).timestamp()
    )
    firing = 'raiwatch_alert_firing{monitor="m1",signal="data_drift"}'
    assert bodies[1][firing] == 1 and bodies[2][firing] == 1
