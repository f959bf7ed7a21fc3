"""The service CLI commands: monitor add/list/backfill, webhooks list/redeliver, apikey."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jobs.cli_service import apikey_app, monitor_add, monitor_backfill, monitor_list, webhooks_app
from monitor.errors import NotFoundError, SchemaError
from monitor.spec.model_version import ModelVersion
from monitor.store import Store

MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[typer.Typer, Store]:
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("RAIWATCH_EVALUATOR", "tests.jobs.fakes:factory")
    monkeypatch.setenv("RAIWATCH_FAKE_ALERTS", "1")
    monkeypatch.setenv("HOOK_SECRET", "whsec_Y2xpLXNlY3JldA==")
    app = typer.Typer()
    monitor = typer.Typer()
    monitor.command("add")(monitor_add)
    monitor.command("list")(monitor_list)
    monitor.command("backfill")(monitor_backfill)
    app.add_typer(monitor, name="monitor")
    app.add_typer(webhooks_app, name="webhooks")
    app.add_typer(apikey_app, name="apikey")
    store = Store(f"sqlite:///{tmp_path / 'raiwatch.db'}")
    store.migrate()
    return app, store


def _yaml(tmp_path: Path) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m1\nmodel: credit\nversion: '1'\nschedule: '0 * * * *'\nwindow: 1h\n"
        "webhooks:\n  - url: http://127.0.0.1:9/h\n    secret_env: HOOK_SECRET\n"
    )
    return path


def test_monitor_add_requires_a_registered_model(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app, _ = cli
    result = CliRunner().invoke(app, ["monitor", "add", "-f", str(_yaml(tmp_path))])
    assert isinstance(result.exception, NotFoundError)
    assert "model register" in str(result.exception)


def test_add_list_backfill_and_webhooks(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app, store = cli
    store.register_model_version(MV)
    runner = CliRunner()
    result = runner.invoke(app, ["monitor", "add", "-f", str(_yaml(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "whsec_" not in result.output
    assert store.list_endpoints("m1")[0].url == "http://127.0.0.1:9/h"
    result = runner.invoke(app, ["monitor", "backfill", "m1", "--start", "2024-03-01T00:00",
                                 "--end", "2024-03-01T03:00"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "backfilled 4 window(s) of m1: alert=1, ok=3" in result.output
    assert store.count_runs("m1") == 4
    result = runner.invoke(app, ["monitor", "list"])
    assert "m1" in result.output and "2024-03-01T03:00:00+00:00" in result.output
    result = runner.invoke(app, ["webhooks", "redeliver"])
    assert isinstance(result.exception, SchemaError)
    result = runner.invoke(app, ["webhooks", "redeliver", "--all-dead"])
    assert "queued 0 deliveries" in result.output


def test_apikey_create_prints_the_key_once(cli) -> None:  # type: ignore[no-untyped-def]
    app, store = cli
    result = CliRunner().invoke(app, ["apikey", "create", "ingest"])
    assert result.exit_code == 0
    key = result.stdout.strip().splitlines()[-1]
    assert store.verify_api_key(key) == "ingest"
    listing = CliRunner().invoke(app, ["apikey", "list"]).output
    assert "ingest" in listing and key not in listing
