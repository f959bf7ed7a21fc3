"""API key scopes (ingest, read, admin), per-model keys and revocation, on SQLite and PostgreSQL.

Each endpoint class is called with a key of each scope: the scopes that should
pass get a 2xx, the others a 403 naming the missing scope; no key at all is 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from jobs.api import create_app, endpoint_scope
from monitor.errors import SchemaError
from monitor.ingest.logstore import LogStore
from monitor.signals.results import SignalResult
from monitor.spec.model_version import ModelVersion
from monitor.store import AlertPolicy, EndpointSpec, Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
SECRET = "whsec_c2NvcGUtdGVzdC1zZWNyZXQ="
CREDIT = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                      "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip
CHURN = ModelVersion.model_validate({"name": "churn", "version": "1", "task": "binary",
                                     "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip


def _rows(prefix: str, n: int = 3) -> list[dict[str, object]]:
    return [{"request_id": f"{prefix}{i}", "timestamp": (T0 + timedelta(minutes=i)).isoformat(),
             "age": 30 + i, "prediction": "1", "score": 0.7} for i in range(n)]  # fmt: skip


@dataclass
class World:
    client: TestClient
    store: Store
    keys: dict[str, str]
    run_ids: dict[str, int]


@pytest.fixture
def world(store: Store, tmp_path: Path) -> Iterator[World]:
    run_ids = {}
    for mv, monitor in ((CREDIT, "credit-daily"), (CHURN, "churn-daily")):
        store.register_model_version(mv)
        store.upsert_monitor(monitor, mv.name, "1", {"name": monitor}, start_at=T0,
                             endpoints=[EndpointSpec(f"http://127.0.0.1:9/{monitor}", SECRET)])  # fmt: skip
        result = SignalResult(signal="data_drift", feature="age", metric="w", value=0.5, threshold=0.1, status="alert")
        run_ids[mv.name] = store.save_run(monitor, mv.name, "1", T0, T0 + timedelta(hours=1), "alert",
                                          [result], 7, 0.1, {}, policy=AlertPolicy())  # fmt: skip
    keys = {
        "ingest": store.create_api_key("k-ingest", scopes=["ingest"]),
        "read": store.create_api_key("k-read", scopes=["read"]),
        "admin": store.create_api_key("k-admin", scopes=["admin"]),
        "credit-only": store.create_api_key("k-credit", scopes=["ingest", "read"], models=["credit"]),
    }
    app = create_app(store, LogStore(tmp_path / "home"), max_request_bytes=100_000)
    with TestClient(app) as client:
        yield World(client, store, keys, run_ids)


def _call(w: World, endpoint: str, key: str | None, tag: str = "a") -> int:
    headers = {} if key is None else {"X-API-Key": key}
    method, _, path = endpoint.partition(" ")
    path = path.replace("{run_id}", str(w.run_ids["credit"]))
    if method == "POST" and path.endswith("/logs"):
        return w.client.post(path, json=_rows(f"{tag}-"), headers=headers).status_code
    if method == "POST" and path.endswith("/labels"):
        rows = [{"request_id": f"{tag}-0", "label": "1"}]
        return w.client.post(path, json=rows, headers=headers).status_code
    if method == "POST":
        return w.client.post(path, headers=headers).status_code
    return w.client.get(path, headers=headers).status_code


# endpoint class → the scopes that may call it
ENDPOINTS = {
    "POST /api/v1/models/credit/versions/1/logs": {"ingest", "admin"},
    "POST /api/v1/models/credit/versions/1/labels": {"ingest", "admin"},
    "GET /api/v1/models": {"read", "admin"},
    "GET /api/v1/models/credit/versions/1": {"read", "admin"},
    "GET /api/v1/monitors": {"read", "admin"},
    "GET /api/v1/runs": {"read", "admin"},
    "GET /api/v1/runs/{run_id}": {"read", "admin"},
    "GET /api/v1/alerts": {"read", "admin"},
    "GET /api/v1/alerts/events": {"read", "admin"},
    "GET /api/v1/webhooks/deliveries": {"read", "admin"},
    "GET /metrics": {"read", "admin"},
    "GET /api/v1/apikeys": {"admin"},
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_each_scope_is_allowed_or_denied_per_endpoint(world: World, endpoint: str) -> None:
    allowed = ENDPOINTS[endpoint]
    got = {scope: _call(world, endpoint, world.keys[scope], tag=scope) for scope in ("ingest", "read", "admin")}
    assert got == {scope: 200 if scope in allowed else 403 for scope in got}
    assert _call(world, endpoint, None) == 401
    assert _call(world, endpoint, "rw_" + "x" * 43) == 401


def test_a_denied_scope_names_what_is_missing(world: World) -> None:
    r = world.client.get("/api/v1/runs", headers={"X-API-Key": world.keys["ingest"]})
    assert r.status_code == 403
    assert r.json()["detail"] == ("API key 'k-ingest' has scopes ['ingest']; this endpoint needs scope "
                                  "'read' (or admin); create a key with --scope read")  # fmt: skip


def test_revoking_through_the_admin_endpoint_needs_admin(world: World) -> None:
    c, keys = world.client, world.keys
    assert c.post("/api/v1/apikeys/k-ingest/revoke", headers={"X-API-Key": keys["read"]}).status_code == 403
    assert c.post("/api/v1/apikeys/nobody/revoke", headers={"X-API-Key": keys["admin"]}).status_code == 404
    assert c.post("/api/v1/apikeys/k-ingest/revoke", headers={"X-API-Key": keys["admin"]}).status_code == 200
    assert _call(world, "POST /api/v1/models/credit/versions/1/logs", keys["ingest"]) == 401
    listed = {k["name"]: k for k in c.get("/api/v1/apikeys", headers={"X-API-Key": keys["admin"]}).json()}
    assert listed["k-ingest"]["revoked_at"] is not None
    assert listed["k-credit"]["scopes"] == ["ingest", "read"] and listed["k-credit"]["models"] == ["credit"]
    assert all(key not in c.get("/api/v1/apikeys", headers={"X-API-Key": keys["admin"]}).text
               for key in keys.values())  # fmt: skip


def test_revocation_by_the_store_is_effective_on_the_next_request(world: World) -> None:
    """What ``raiwatch apikey revoke`` does from another process: no cache to wait out."""
    key = world.keys["read"]
    assert _call(world, "GET /api/v1/runs", key) == 200
    world.store.revoke_api_key("k-read")
    assert _call(world, "GET /api/v1/runs", key) == 401


def test_a_per_model_key_touches_only_its_models(world: World) -> None:
    c, key = world.client, world.keys["credit-only"]
    h = {"X-API-Key": key}
    assert c.post("/api/v1/models/credit/versions/1/logs", json=_rows("c"), headers=h).status_code == 200
    denied = c.post("/api/v1/models/churn/versions/1/logs", json=_rows("c"), headers=h)
    assert denied.status_code == 403 and "may not use model 'churn'" in denied.json()["detail"]
    assert c.post("/api/v1/models/churn/versions/1/labels", json=[{"request_id": "c0", "label": "1"}],
                  headers=h).status_code == 403  # fmt: skip
    assert [m["name"] for m in c.get("/api/v1/models", headers=h).json()] == ["credit"]
    assert c.get("/api/v1/models/churn/versions/1", headers=h).status_code == 403
    assert [m["name"] for m in c.get("/api/v1/monitors", headers=h).json()] == ["credit-daily"]
    assert {r["model"] for r in c.get("/api/v1/runs", headers=h).json()} == {"credit"}
    assert c.get("/api/v1/runs", params={"model": "churn"}, headers=h).status_code == 403
    assert c.get(f"/api/v1/runs/{world.run_ids['credit']}", headers=h).status_code == 200
    assert c.get(f"/api/v1/runs/{world.run_ids['churn']}", headers=h).status_code == 403
    assert {a["monitor"] for a in c.get("/api/v1/alerts", headers=h).json()} == {"credit-daily"}
    assert {e["monitor"] for e in c.get("/api/v1/alerts/events", headers=h).json()} == {"credit-daily"}
    deliveries = c.get("/api/v1/webhooks/deliveries", headers=h).json()
    assert deliveries and {d["url"].rsplit("/", 1)[1] for d in deliveries} == {"credit-daily"}
    metrics = c.get("/metrics", headers=h)
    assert metrics.status_code == 403 and "without a model restriction" in metrics.json()["detail"]
    # an unrestricted read key sees both models
    everything = c.get("/api/v1/runs", headers={"X-API-Key": world.keys["read"]}).json()
    assert {r["model"] for r in everything} == {"credit", "churn"}


def test_key_creation_is_validated(store: Store) -> None:
    with pytest.raises(SchemaError, match=r"scopes must be one or more of \['ingest', 'read', 'admin'\]"):
        store.create_api_key("bad", scopes=["write"])
    with pytest.raises(SchemaError, match="an admin key cannot be limited to models"):
        store.create_api_key("bad", scopes=["admin"], models=["credit"])
    with pytest.raises(SchemaError, match="needs at least one model name"):
        store.create_api_key("bad", scopes=["read"], models=[" "])
    assert [k.name for k in store.list_api_keys()] == []


def test_every_endpoint_declares_its_scope_in_code_and_in_openapi(world: World) -> None:
    routes = [r for r in world.client.app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]
    scopes = {r.path: endpoint_scope(r) for r in routes}
    assert None not in scopes.values(), scopes
    assert scopes["/healthz"] == "public" and scopes["/api/v1/apikeys"] == "admin"
    spec = world.client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            scope = op["x-raiwatch-scope"]
            assert scope in {"public", "ingest", "read", "admin"}, (method, path)
            if scope == "public":
                assert "security" not in op, path
            else:
                assert {"HTTPBearer": []} in op["security"] and {"APIKeyHeader": []} in op["security"], path
                assert f"scope `{scope}`" in op["description"], path
