"""Shared pieces of the command line: settings, the store, errors, progress."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.baseline.reference import Baseline
from monitor.errors import SchemaError
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.spec.settings import Settings, load_settings
from monitor.store import Store

console = Console()
err_console = Console(stderr=True)


def settings_for(home: Path | None) -> Settings:
    settings = load_settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


def open_store(settings: Settings) -> Store:
    store = Store(settings.db_url)
    store.migrate()
    return store


def log_store(settings: Settings) -> LogStore:
    return settings.log_store()


def load_baseline(store: Store, name: str, version: str) -> Baseline:
    doc, sample = store.load_baseline(name, version)
    return Baseline.from_document(doc, sample)


def get_model_version(store: Store, name: str, version: str) -> ModelVersion:
    return store.get_model_version(name, version)


@contextlib.contextmanager
def row_progress(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar counting rows; yields the ``advance(rows)`` callback."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def parse_time(value: str, what: str) -> dt.datetime:
    """An ISO date or datetime from the command line, UTC when no zone is given."""
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SchemaError(
            f"{what} {value!r} is not an ISO date or datetime (e.g. 2026-01-31 or 2026-01-31T12:00)"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def parse_range(start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
    """``--start`` and ``--end`` parsed; ``--end`` before ``--start`` is an error (exit 2)."""
    t0, t1 = parse_time(start, "--start"), parse_time(end, "--end")
    if t1 < t0:
        raise SchemaError(
            f"--end {end!r} is before --start {start!r}; swap them (the range is --start to --end)"
        )
    return t0, t1
