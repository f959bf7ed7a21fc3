"""Operator commands of ``raiwatch``, mounted by ``jobs/cli.py``::

    raiwatch runs list [--monitor M] [--model NAME] [--version V] [--limit N] [--format json]
    raiwatch runs show ID [--all] [--format json]
    raiwatch alerts list [--monitor M] [--firing] [--format json]
    raiwatch alerts ack MONITOR SIGNAL --by NAME [--note TEXT]
    raiwatch alerts silence MONITOR SIGNAL --for 4h --by NAME [--reason TEXT]
    raiwatch alerts unsilence MONITOR SIGNAL
    raiwatch monitor delete NAME [--purge-runs] [--yes]

Every command reads and writes through :class:`monitor.store.Store`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer

from jobs.cli_common import FormatOption, OutputFormat, console, emit, open_store, settings_for
from monitor.errors import SchemaError

Home = Annotated[
    Path | None,
    typer.Option("--home", help="data directory (default $RAIWATCH_HOME or ./.raiwatch)"),
]
runs_app = typer.Typer(no_args_is_help=True, help="List and inspect monitor runs (windows).")
alerts_app = typer.Typer(no_args_is_help=True, help="List, acknowledge and silence alerts.")

_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, flag: str = "--for") -> dt.timedelta:
    """``30m``, ``4h`` or ``7d`` as a :class:`~datetime.timedelta`.

    >>> parse_duration("4h")
    datetime.timedelta(seconds=14400)
    """
    match = _DURATION.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise SchemaError(
            f"{flag} {text!r} is not a duration; use a positive number of minutes, hours or "
            "days such as 30m, 4h or 7d"
        )
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@runs_app.command("list")
def runs_list(
    monitor: Annotated[str | None, typer.Option(help="only this monitor")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="only this model")] = None,
    version: Annotated[
        str | None, typer.Option("--version", "-v", help="only this version")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="newest N runs")] = 50,
    fmt: FormatOption = OutputFormat.table,
    home: Home = None,
) -> None:
    """Runs, newest window first (status, rows, duration; no results)."""
    store = open_store(settings_for(home))
    runs = store.list_runs(name=model, version=version, monitor=monitor, limit=limit)
    rows = [{**r.to_dict(), "results": None, "error": (r.details or {}).get("error")} for r in runs]
    for row in rows:
        row.pop("results")
    emit(
        rows,
        fmt,
        columns=["id", "monitor", "model", "version", "window_start", "window_end", "status",
                 "row_count", "duration_s", "error"],
        title="runs (newest window first)",
    )  # fmt: skip


@runs_app.command("show")
def runs_show(
    run_id: Annotated[int, typer.Argument(help="run id (see 'raiwatch runs list')")],
    all_results: Annotated[
        bool, typer.Option("--all", help="show passing results too (table format)")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    home: Home = None,
) -> None:
    """One run with its signal results (JSON: the run and every result)."""
    run = open_store(settings_for(home)).get_run(run_id)
    if fmt is OutputFormat.json:
        emit([run.to_dict()], fmt, columns=[])
        return
    console.print(
        f"run [bold]{run.id}[/] of monitor [bold]{run.monitor}[/] ({run.model_name}:"
        f"{run.model_version}) window {run.window_start.isoformat()} → {run.window_end.isoformat()}"
        f": [bold]{run.status}[/], {run.row_count:,} rows, {run.duration_s:.2f} s"
    )
    if run.details.get("error"):
        console.print(f"error: {run.details['error']}")
    results = [r.to_dict() for r in run.results if all_results or r.status != "ok"]
    emit(
        results,
        OutputFormat.table,
        columns=[
            "signal",
            "feature",
            "metric",
            "value",
            "threshold",
            "status",
            "p_value",
            "message",
        ],
        title=None if results else "no result outside ok (use --all to see them)",
    )


@alerts_app.command("list")
def alerts_list(
    monitor: Annotated[str | None, typer.Option(help="only this monitor")] = None,
    firing: Annotated[bool, typer.Option("--firing", help="only firing alerts")] = False,
    fmt: FormatOption = OutputFormat.table,
    home: Home = None,
) -> None:
    """Alert states, firing first, with who acknowledged or silenced them."""
    store = open_store(settings_for(home))
    handling = {(h.monitor, h.signal): h for h in store.list_alert_handling(monitor)}
    order = {"firing": 0, "resolved": 1, "ok": 2}
    rows = []
    for s in sorted(
        store.list_alert_states(monitor), key=lambda s: (order.get(s.state, 3), s.monitor, s.signal)
    ):
        if firing and s.state != "firing":
            continue
        h = handling.get((s.monitor, s.signal))
        rows.append({
            "monitor": s.monitor, "signal": s.signal, "state": s.state, "since": s.since,
            "last_run_id": s.last_run_id,
            "acknowledged_by": h.acknowledged_by if h and h.acknowledged else None,
            "silenced_until": h.silenced_until if h and h.silenced else None,
        })  # fmt: skip
    emit(rows, fmt, columns=list(rows[0]) if rows else ["monitor", "signal", "state"],
         title="alerts (firing first)")  # fmt: skip


@alerts_app.command("ack")
def alerts_ack(
    monitor: Annotated[str, typer.Argument(help="monitor name")],
    signal: Annotated[str, typer.Argument(help="signal, e.g. data_drift")],
    by: Annotated[str, typer.Option("--by", help="who is on it")],
    note: Annotated[str | None, typer.Option(help="what you found or are doing")] = None,
    home: Home = None,
) -> None:
    """Acknowledge a firing alert (for its current firing episode)."""
    open_store(settings_for(home)).acknowledge_alert(monitor, signal, by=by, note=note)
    console.print(f"{signal} of {monitor} acknowledged by {by}")


@alerts_app.command("silence")
def alerts_silence(
    monitor: Annotated[str, typer.Argument(help="monitor name")],
    signal: Annotated[str, typer.Argument(help="signal, e.g. data_drift")],
    duration: Annotated[str, typer.Option("--for", help="how long: 30m, 4h, 7d (at most 90d)")],
    by: Annotated[str, typer.Option("--by", help="who silences it")],
    reason: Annotated[str | None, typer.Option(help="why (shown on the dashboard)")] = None,
    home: Home = None,
) -> None:
    """Silence an alert until an expiry: its firing webhooks are not sent meanwhile."""
    until = dt.datetime.now(dt.UTC) + parse_duration(duration)
    record = open_store(settings_for(home)).silence_alert(
        monitor, signal, until=until, by=by, reason=reason
    )
    assert record.silenced_until is not None
    console.print(f"{signal} of {monitor} silenced until {record.silenced_until.isoformat()}")


@alerts_app.command("unsilence")
def alerts_unsilence(
    monitor: Annotated[str, typer.Argument(help="monitor name")],
    signal: Annotated[str, typer.Argument(help="signal, e.g. data_drift")],
    home: Home = None,
) -> None:
    """End a silence now."""
    open_store(settings_for(home)).unsilence_alert(monitor, signal)
    console.print(f"{signal} of {monitor} is no longer silenced")


def monitor_delete(
    name: Annotated[str, typer.Argument(help="monitor name")],
    purge_runs: Annotated[
        bool, typer.Option("--purge-runs", help="also delete its runs and results")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    home: Home = None,
) -> None:
    """Delete a monitor, its webhooks, deliveries and alert history (runs kept unless --purge-runs)."""
    store = open_store(settings_for(home))
    store.get_monitor(name)  # NotFoundError lists the known monitors
    what = "its runs, " if purge_runs else ""
    if not yes and not typer.confirm(
        f"Delete monitor {name!r} with {what}its webhook endpoints, deliveries and alert history?"
    ):
        raise typer.Exit(1)
    counts = store.delete_monitor(name, purge_runs=purge_runs)
    detail = ", ".join(f"{n} {table}" for table, n in counts.items() if n and table != "monitors")
    console.print(f"deleted monitor {name}" + (f" ({detail})" if detail else ""))


def monitor_promote(
    name: Annotated[str, typer.Argument(help="monitor name")],
    force: Annotated[
        bool, typer.Option("--force", help="promote even if the verdict is not 'better'")
    ] = False,
    home: Home = None,
) -> None:
    """Make the monitor's challenger its champion (new baseline, history kept)."""
    from jobs.lifecycle import promote

    store = open_store(settings_for(home))
    done = promote(store, name, force=force)
    console.print(
        f"monitor {name}: version {done.to_version} is now the champion (was {done.from_version}); "
        f"verdict {done.evidence.get('verdict') or 'none'}; earlier runs keep version {done.from_version}"
    )
