"""Planted secrets never appear in any output: serve's log, the CLI, API listings,
stored runs and database error text.

A real ``serve`` process delivers to a failing loopback receiver whose URL holds a
token and whose signing key is planted; a monitor run fails with an exception
message that quotes the secrets; ``monitor add`` is given invalid YAML that holds
a secret. Everything these print, log, return or store is grepped for the secrets.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import exc as sa_exc
from typer.testing import CliRunner

from jobs.cli import app as cli_app
from monitor.redaction import redact
from monitor.spec.model_version import ModelVersion
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import EndpointSpec, Store
from tests.jobs.http_receiver import Receiver
from tests.jobs.service_process import ServiceProcess

SECRET = "whsec_cGxhbnRlZC1zaWduaW5nLWtleS0xMjM0NTY="
URL_TOKEN = "tok-PLANTED-7c1e9d2a4b"
MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip


def _planted(key: str) -> list[str]:
    return [SECRET, SECRET.removeprefix("whsec_"), URL_TOKEN, key, key[3:]]


def test_redact_masks_every_kind_of_secret() -> None:
    text = (f"POST http://h/x?token={URL_TOKEN}&ok=1 with Bearer rw_abcdefghijk and {SECRET} "
            "to postgresql://app:hunter2@db/x")  # fmt: skip
    out = redact(text)
    for leaked in (URL_TOKEN, "rw_abcdefghijk", SECRET, "hunter2"):
        assert leaked not in out
    assert "ok=1" in out and "postgresql://app:***@db/x" in out


def test_secrets_stay_out_of_serve_logs_listings_and_stored_runs(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'raiwatch.db'}"
    store = Store(db_url)
    store.migrate()
    store.register_model_version(MV)
    key = store.create_api_key("reader")
    receiver = Receiver(script=["500"] * 100)
    hook = receiver.start() + f"?token={URL_TOKEN}"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    spec = parse_monitor_spec({"name": "s", "model": "credit", "version": "1", "schedule": "* * * * *",
                               "window": "1m", "cooldown": "0s"})  # fmt: skip
    store.upsert_monitor("s", "credit", "1", spec.stored_dict(), start_at=now - timedelta(minutes=3),
                         endpoints=[EndpointSpec(hook, SECRET, timeout_s=2, max_attempts=3)])  # fmt: skip
    env = {"RAIWATCH_EVALUATOR": "tests.jobs.fakes:factory", "RAIWATCH_FAKE_ALERTS": ",".join(map(str, range(60))),
           "RAIWATCH_LOG_LEVEL": "DEBUG"}  # fmt: skip
    service = ServiceProcess(tmp_path, db_url, env)
    outputs: list[str] = []
    try:
        service.wait_healthy()
        deadline = time.monotonic() + 30
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(receiver.received) >= 3  # deliveries were attempted (and failed) with the token URL
        with httpx.Client(base_url=service.url, headers={"X-API-Key": key}, timeout=10) as http:
            for path in ("/api/v1/monitors", "/api/v1/webhooks/deliveries", "/api/v1/runs", "/metrics"):
                r = http.get(path)
                assert r.status_code == 200, (path, r.text)
                outputs.append(r.text)
            # a request that fails on purpose, with secrets in what it sends
            r = http.post("/api/v1/models/credit/versions/1/logs", content=f"not json {SECRET}".encode())
            assert r.status_code == 422
            outputs.append(r.text)
    finally:
        service.stop()
        receiver.stop()
    log_text = service.log.read_text()
    assert "webhook" in log_text and "attempt" in log_text  # the attempts were logged...
    assert "token=***" in log_text  # ...with the token masked
    outputs.append(log_text)
    outputs += [str(store.get_run(r.id).to_dict()) for r in store.list_runs(limit=100)]
    everything = "\n".join(outputs)
    for secret in _planted(key):
        assert secret not in everything, f"secret {secret[:8]}... leaked"
    store.dispose()


@pytest.mark.parametrize("problem", ["both-secret-and-env", "duplicated-url"])
def test_monitor_add_validation_errors_never_show_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    for name in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    hook = f"https://hooks.example/x?token={URL_TOKEN}"
    if problem == "both-secret-and-env":
        hooks = f"  - url: {hook}\n    secret: {SECRET}\n    secret_env: HOOK_SECRET\n"
    else:
        hooks = f"  - url: {hook}\n    secret: {SECRET}\n  - url: {hook}\n    secret: {SECRET}\n"
    yaml_file = tmp_path / "monitor.yaml"
    yaml_file.write_text(f"name: m\nmodel: credit\nversion: '1'\nwebhooks:\n{hooks}")
    result = CliRunner().invoke(cli_app, ["monitor", "add", "-f", str(yaml_file), "--home", str(tmp_path)])
    assert result.exit_code != 0
    shown = f"{result.output}\n{result.exception}"
    assert "webhooks" in shown  # the error names the field...
    for secret in (SECRET, SECRET.removeprefix("whsec_"), URL_TOKEN):
        assert secret not in shown  # ...but never the secret


@pytest.mark.postgres
def test_database_errors_never_carry_statement_parameters(pg_schema_url: str) -> None:
    store = Store(pg_schema_url)
    store.migrate()
    too_long = SECRET + "A" * 600  # over the column's 512 characters: PostgreSQL refuses it
    spec = parse_monitor_spec({"name": "m", "model": "credit", "version": "1"})
    with pytest.raises(sa_exc.DBAPIError) as caught:
        store.upsert_monitor("m", "credit", "1", spec.stored_dict(), start_at=datetime(2024, 3, 1, tzinfo=UTC),
                             endpoints=[EndpointSpec("http://127.0.0.1:9/x", too_long)])  # fmt: skip
    assert SECRET not in str(caught.value) and "parameters hidden" in str(caught.value)
    store.dispose()
