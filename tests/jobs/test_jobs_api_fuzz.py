"""OpenAPI fuzzing of the HTTP API with schemathesis: no generated input gives a 5xx.

Every operation of ``/openapi.json`` (ingestion bodies included: their schema is
declared) is called with a bounded number of generated requests, authenticated
with a valid API key, against a real SQLite store and log store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from jobs.api import create_app
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.store import Store

MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip
MAX_EXAMPLES = 25


def _registered_model(case: schemathesis.Case) -> schemathesis.Case:
    case.path_parameters = {**(case.path_parameters or {}), "model": MV.name, "version": MV.version}
    return case


def _fuzz(operation: Any, label: str, key: str, calls: dict[str, int], failures: list[str],
          statuses: set[int]) -> None:  # fmt: skip
    """Call ``operation`` with up to MAX_EXAMPLES generated requests; record any 5xx."""

    strategy = operation.as_strategy()
    if "{model}" in operation.path:  # aim at the registered model, or every body dies on a 404
        strategy = strategy.map(_registered_model)

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers={"X-API-Key": key})
        calls[label] = calls.get(label, 0) + 1
        statuses.add(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{label} -> {response.status_code}: {response.text[:300]}")

    run()


def test_no_generated_request_gives_a_server_error(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    store.migrate()
    store.register_model_version(MV)
    key = store.create_api_key("fuzz")
    app = create_app(store, LogStore(tmp_path / "home"), max_request_bytes=100_000)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    calls: dict[str, int] = {}
    statuses: set[int] = set()

    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"

        _fuzz(operation, label, key, calls, failures, statuses)
    store.dispose()
    assert failures == []
    assert {200, 422} <= statuses  # generated bodies reached both the store and the validation
    assert len(calls) >= 10 and all(n >= 1 for n in calls.values()), calls  # every operation was fuzzed


def test_a_run_id_beyond_the_stores_range_is_422(tmp_path: Path) -> None:
    """Found by the fuzz run: /api/v1/runs/9223372036854775808 was a 500 (OverflowError)."""
    from fastapi.testclient import TestClient

    store = Store(f"sqlite:///{tmp_path / 'ids.db'}")
    store.migrate()
    key = store.create_api_key("k")
    with TestClient(create_app(store, LogStore(tmp_path), max_request_bytes=1000)) as client:
        for run_id in ("9223372036854775808", "2147483648", "0"):
            assert client.get(f"/api/v1/runs/{run_id}", headers={"X-API-Key": key}).status_code == 422
        assert client.get("/api/v1/runs/2147483647", headers={"X-API-Key": key}).status_code == 404
    store.dispose()
