"""Migrations run programmatically, are idempotent and match the ORM models."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from monitor.store import Base, Store

EXPECTED_TABLES = {
    "model_versions",
    "baselines",
    "monitors",
    "runs",
    "signal_results",
    "alert_states",
    "alert_events",
    "alert_handling",
    "retrain_schedules",
    "model_promotions",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "api_keys",
    "detector_states",
    "apscheduler_jobs",
    "alembic_version",
}


def test_migrate_creates_every_table_and_is_idempotent(
    db_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini anywhere near
    assert not (tmp_path / "alembic.ini").exists()
    store = Store(db_url)
    store.migrate()
    store.migrate()
    tables = set(inspect(store.engine).get_table_names())
    assert tables >= EXPECTED_TABLES
    store.dispose()


def test_migration_matches_models(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_sqlite_default_creates_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "home" / "raiwatch.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    assert path.is_file()
    assert os.path.getsize(path) > 0
    store.dispose()
