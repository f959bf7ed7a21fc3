"""Shared fixtures.

``db_url`` / ``store`` run a test on SQLite (a file under ``tmp_path``) and on
PostgreSQL (``RAIWATCH_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), each PostgreSQL test in
its own schema, dropped afterwards. Set ``RAIWATCH_TEST_PG_URL=skip`` to skip
the PostgreSQL half.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from monitor.store import Store

PG_URL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_base_url() -> str | None:
    """The PostgreSQL test URL, or ``None`` when PostgreSQL tests are switched off."""
    url = os.environ.get("RAIWATCH_TEST_PG_URL", PG_URL_DEFAULT)
    return None if url.strip().lower() == "skip" else url


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh schema, dropped after the test."""
    base = pg_base_url()
    if base is None:
        pytest.skip("PostgreSQL tests switched off (RAIWATCH_TEST_PG_URL=skip)")
    from sqlalchemy import create_engine, text

    schema = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(base, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated-or-not database URL, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'raiwatch.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated :class:`~monitor.store.Store` on each backend."""
    from monitor.store import Store

    s = Store(db_url)
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local[2] Spark session for the whole test session (start-up is paid once).

    Bound to 127.0.0.1 with the UI off; skipped when PySpark or Java is missing.
    """
    pytest.importorskip("pyspark", reason="the Spark engine tests need pip install 'raiwatch[spark]'")
    from monitor.engines.spark import spark_session
    from monitor.errors import EngineUnavailableError
    from monitor.spec.engine import SparkSettings

    try:
        session = spark_session(
            SparkSettings(
                master="local[2]",
                app_name="raiwatch-tests",
                conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
            )
        )
    except EngineUnavailableError as err:
        pytest.skip(str(err))
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
