"""Shared pieces of the command line: settings, the store, errors, progress."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.baseline.reference import Baseline
from monitor.errors import SchemaError
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.spec.settings import Settings, load_settings
from monitor.store import Store

#: Width of output that is not a terminal (a pipe, a file): wide enough that no table is cut.
PIPE_WIDTH = 10_000


def _console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # piped output is not cut to 80 columns: tables keep their natural width
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


console = _console()
err_console = _console(stderr=True)


class OutputFormat(StrEnum):
    """How list commands print: a table for people, JSON for scripts."""

    table = "table"
    json = "json"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="table for people, json for scripts (jq, pipelines)"),
]


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: OutputFormat,
    *,
    columns: Sequence[str],
    title: str | None = None,
) -> None:
    """Print ``rows``: a JSON array of objects (every key), or a table of ``columns``."""
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps([_jsonable(dict(r)) for r in rows], indent=2) + "\n")
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(escape(_cell(row.get(c))) for c in columns))
    console.print(table)


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


def parse_range(
    start: str,
    end: str,
    *,
    inclusive: bool = False,
    start_flag: str = "--start",
    end_flag: str = "--end",
) -> tuple[dt.datetime, dt.datetime]:
    """Both ends of a range; ``SchemaError`` when the end is before the start (or equal to
    it, unless the range is ``inclusive`` of its end, as backfill ticks are)."""
    t0, t1 = parse_time(start, start_flag), parse_time(end, end_flag)
    if t1 < t0 or (t1 == t0 and not inclusive):
        bound = "[start, end]" if inclusive else "[start, end)"
        raise SchemaError(
            f"{end_flag} {t1.isoformat()} is {'before' if t1 < t0 else 'equal to'} "
            f"{start_flag} {t0.isoformat()}; give {start_flag} the earlier time "
            f"(the range is {bound})"
        )
    return t0, t1


def parse_time(value: str, what: str) -> dt.datetime:
    """An ISO date or datetime from the command line, UTC when no zone is given."""
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SchemaError(
            f"{what} {value!r} is not an ISO date or datetime (e.g. 2026-01-31 or 2026-01-31T12:00)"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)

