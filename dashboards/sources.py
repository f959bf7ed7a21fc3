"""Where the dashboard reads from: the store's URL, the data home, bundles and reports.

Settings come from :func:`monitor.spec.settings.load_settings` (``RAIWATCH_HOME``,
``RAIWATCH_DATABASE_URL``, ``raiwatch.yaml``); ``RAIWATCH_BUNDLE_DIR`` points the
RAI pages at another bundle directory than ``<home>/bundles``.

>>> src = DashboardSources.from_env({"RAIWATCH_HOME": "/tmp/x"})
>>> src.bundle_dir.as_posix()
'/tmp/x/bundles'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from monitor.spec.settings import load_settings

BUNDLE_DIR_ENV = "RAIWATCH_BUNDLE_DIR"
#: set by ``raiwatch dashboard``: the bind address, and "1" when --no-login accepted no login
ADDRESS_ENV = "RAIWATCH_DASHBOARD_ADDRESS"
NO_LOGIN_ENV = "RAIWATCH_DASHBOARD_NO_LOGIN"


@dataclass(frozen=True)
class DashboardSources:
    """The locations one dashboard process reads (hashable, so usable as a cache key)."""

    db_url: str
    home: Path
    bundle_dir: Path
    report_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DashboardSources:
        """Resolve the sources from settings and environment variables."""
        environ = dict(os.environ if env is None else env)
        settings = load_settings(env=environ)
        bundles = environ.get(BUNDLE_DIR_ENV)
        return cls(
            db_url=settings.db_url,
            home=settings.home,
            bundle_dir=Path(bundles) if bundles else settings.bundle_dir,
            report_dir=settings.report_dir,
        )


def read_engine(db_url: str) -> Engine:
    """An engine for reading the store.

    Unlike the store's own engine, SQLite reads do not take the write lock
    (no ``BEGIN IMMEDIATE``) and the connection is ``query_only``, so the
    dashboard never blocks a monitor run nor writes by accident.
    """
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(db_url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    engine = create_engine(db_url, connect_args={"timeout": 30.0})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def store_exists(db_url: str) -> bool:
    """Whether the store's database is there to read (a missing SQLite file is not)."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database == ":memory:" or Path(database).is_file()
