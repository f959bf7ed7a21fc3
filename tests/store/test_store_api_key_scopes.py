"""API key scopes in the store: the 0003 migration maps existing keys to admin; the CLI
creates, lists and revokes scoped keys; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from jobs.cli_service import apikey_app
from monitor.errors import SchemaError
from monitor.store import ApiKeyGrant, Store
from monitor.store.apikeys import hash_api_key
from monitor.store.engine import migrate


def test_keys_from_before_scopes_become_admin_keys(db_url: str) -> None:
    """The single key of an existing deployment keeps working, with every ability it had."""
    store = Store(db_url)
    migrate(store.engine, "0002")
    old_key = "rw_" + "k" * 43
    with store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES (:n, :p, :h, :c)"),
            {"n": "legacy", "p": old_key[:8], "h": hash_api_key(old_key), "c": "2026-01-01 00:00:00"},
        )
    store.migrate()
    assert store.authenticate_api_key(old_key) == ApiKeyGrant("legacy", ("admin",), None)
    with store.engine.connect() as conn:  # hashed: the key itself is nowhere in the table
        dump = json.dumps([list(map(str, r)) for r in conn.execute(text("SELECT * FROM api_keys"))])
    assert old_key not in dump
    store.dispose()


def test_scoped_keys_round_trip(store: Store) -> None:
    key = store.create_api_key("ci", scopes=["read", "ingest"], models=["churn", "credit"])
    assert store.authenticate_api_key(key) == ApiKeyGrant("ci", ("ingest", "read"), ("churn", "credit"))
    listed = store.list_api_keys()[0]
    assert (listed.scopes, listed.models) == (("ingest", "read"), ("churn", "credit"))
    store.revoke_api_key("ci")
    assert store.authenticate_api_key(key) is None


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[typer.Typer, Store]:
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path))
    monkeypatch.setenv("RAIWATCH_DATABASE_URL", db_url)
    app = typer.Typer()
    app.add_typer(apikey_app, name="apikey")
    store = Store(db_url)
    store.migrate()
    return app, store


def test_cli_creates_lists_and_revokes_scoped_keys(cli: tuple[typer.Typer, Store]) -> None:
    app, store = cli
    runner = CliRunner()
    made = runner.invoke(app, ["apikey", "create", "ingest-credit", "--scope", "ingest", "--model", "credit"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert "scopes ingest; models credit" in made.stderr and "not shown again" in made.stderr
    assert store.authenticate_api_key(key) == ApiKeyGrant("ingest-credit", ("ingest",), ("credit",))
    legacy = runner.invoke(app, ["apikey", "create", "old-style"])
    assert legacy.exit_code == 0 and "no --scope given: this is an admin key" in legacy.stderr
    listing = runner.invoke(app, ["apikey", "list", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    assert rows["ingest-credit"]["scopes"] == "ingest" and rows["ingest-credit"]["models"] == "credit"
    assert rows["old-style"]["scopes"] == "admin" and rows["old-style"]["models"] == "*"
    assert key not in listing.output and hash_api_key(key) not in listing.output
    assert runner.invoke(app, ["apikey", "revoke", "ingest-credit"]).exit_code == 0
    assert store.authenticate_api_key(key) is None
    bad = runner.invoke(app, ["apikey", "create", "x", "--scope", "admin", "--model", "credit"])
    assert isinstance(bad.exception, SchemaError) and "cannot be limited to models" in str(bad.exception)
    store.dispose()
