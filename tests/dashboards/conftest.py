"""Fixtures for the dashboard tests: a small seeded demo store and an empty store.

The demo store is built once per session with fewer days (drift from day 3) and
without the RAI step; ``seed.py`` adds alerts, deliveries, a failed run and a
version without runs. The RAI bundle fixture builds the seeded demo bundle once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboards.seed import seed_all

DEMO_DAYS = 6
DRIFT_DAY = 3
#: Windows without any logged row after the demo's last day (a traffic outage).
QUIET_DAYS = 3


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo home with runs, alerts, deliveries, a failed run, an empty version and
    :data:`QUIET_DAYS` windows without traffic at the end."""
    import jobs.demo as demo
    from monitor.store import Store

    home = tmp_path_factory.mktemp("dash") / "home"
    patch = pytest.MonkeyPatch()
    patch.setattr(demo, "_rai_step", lambda home, seed: None)
    try:
        demo.run_demo(home=home, days=DEMO_DAYS, drift_day=DRIFT_DAY, concept_days=(1, 2), seed=0)
    finally:
        patch.undo()
    store = Store(f"sqlite:///{home / 'raiwatch.db'}")
    seed_all(store, home, demo_days=DEMO_DAYS, quiet_days=QUIET_DAYS)
    report = home / "reports" / "credit-daily"
    report.mkdir(parents=True)
    newest = max(
        (r for r in store.list_runs(monitor="credit-daily") if r.row_count),
        key=lambda r: r.window_end,
    )
    (report / f"{newest.id}.html").write_text("<html><body>report</body></html>")
    store.dispose()
    return home


#: The lifecycle demo: 12 days, drift from day 3, credit:2 in shadow from day 3 + SHADOW_AFTER.
LIFECYCLE_DAYS = 12
LIFECYCLE_DRIFT_DAY = 3


@pytest.fixture(scope="session")
def lifecycle_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo home with the lifecycle episode: ``retrain_every: 14d`` and a retrained
    credit:2 in shadow that the monitor judges ``better`` (the real demo code, fewer days)."""
    import jobs.demo as demo

    home = tmp_path_factory.mktemp("lifecycle") / "home"
    patch = pytest.MonkeyPatch()
    patch.setattr(demo, "_rai_step", lambda home, seed: None)
    try:
        demo.run_demo(home=home, days=LIFECYCLE_DAYS, drift_day=LIFECYCLE_DRIFT_DAY, concept_days=(1, 1),
                      seed=0, lifecycle=True)  # fmt: skip
    finally:
        patch.undo()
    return home


@pytest.fixture
def lifecycle_env(lifecycle_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the dashboard at the lifecycle demo home."""
    monkeypatch.setenv("RAIWATCH_HOME", str(lifecycle_home))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAIWATCH_BUNDLE_DIR", raising=False)
    return lifecycle_home


@pytest.fixture
def demo_env(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the dashboard at the demo home."""
    monkeypatch.setenv("RAIWATCH_HOME", str(demo_home))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAIWATCH_BUNDLE_DIR", raising=False)
    return demo_home


@pytest.fixture
def empty_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the dashboard at a migrated store without any data."""
    from monitor.store import Store

    home = tmp_path / "empty"
    store = Store(f"sqlite:///{home / 'raiwatch.db'}")
    store.migrate()
    store.dispose()
    monkeypatch.setenv("RAIWATCH_HOME", str(home))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAIWATCH_BUNDLE_DIR", raising=False)
    yield home


def window_of(day: int) -> tuple[dt.datetime, dt.datetime]:
    """The demo's window of ``day``."""
    from jobs.demo import START

    return START + dt.timedelta(days=day), START + dt.timedelta(days=day + 1)


@pytest.fixture(scope="session")
def monitored_bundle(demo_home: Path) -> Path:
    """The demo's RAI bundle of the model it monitors, as ``raiwatch demo`` builds it
    (the ``demo_home`` fixture skips that step; built once per session)."""
    from jobs.demo import build_rai_bundle

    return build_rai_bundle(demo_home, seed=0)


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded demo insights bundle (built once per session)."""
    from rai.demo import build_demo_bundle

    return build_demo_bundle(tmp_path_factory.mktemp("bundles") / "credit-demo", seed=0)
