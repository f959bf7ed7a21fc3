"""Service commands of ``raiwatch``, mounted by ``jobs/cli.py``.

Plain typer-decorated functions and sub-apps::

    app.command("serve")(serve)
    monitor_app.command("add")(monitor_add)
    monitor_app.command("list")(monitor_list)
    monitor_app.command("backfill")(monitor_backfill)
    app.add_typer(webhooks_app, name="webhooks")   # list | redeliver
    app.add_typer(apikey_app, name="apikey")       # create | list | revoke

Errors are :class:`~monitor.errors.RaiwatchError` and are printed by ``main``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jobs.cli_common import (
    FormatOption,
    OutputFormat,
    console,
    emit,
    err_console,
    open_store,
    parse_range,
    settings_for,
)
from jobs.evaluation import EngineEvaluator, load_evaluator
from jobs.runner import MonitorRunner
from jobs.webhook_destinations import DestinationPolicy
from jobs.windows import windows_between
from monitor.errors import SchemaError
from monitor.redaction import install_log_redaction
from monitor.spec.monitor import MonitorSpec, load_monitor_spec
from monitor.store import EndpointSpec

Home = Annotated[
    Path | None,
    typer.Option("--home", help="data directory (default $RAIWATCH_HOME or ./.raiwatch)"),
]
webhooks_app = typer.Typer(no_args_is_help=True, help="Inspect and redeliver webhooks.")
apikey_app = typer.Typer(no_args_is_help=True, help="Manage API keys (scopes ingest, read, admin).")


def serve(
    home: Home = None,
    host: Annotated[
        str | None, typer.Option(help="bind address (default settings.api_host)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default settings.api_port)")] = None,
    workers: Annotated[int, typer.Option(help="monitors run in parallel")] = 4,
    backoff_base: Annotated[float, typer.Option(help="first webhook retry delay, seconds")] = 5.0,
    poll_interval: Annotated[float, typer.Option(help="deliverer poll, seconds")] = 1.0,
    reconcile_interval: Annotated[float, typer.Option(help="monitor re-sync, seconds")] = 30.0,
    run_lease: Annotated[float, typer.Option(help="monitor lease TTL, seconds")] = 300.0,
    delivery_lease: Annotated[float, typer.Option(help="webhook send lease, seconds")] = 120.0,
) -> None:
    """Run the HTTP API, the scheduler and the webhook deliverer in one process."""
    from jobs.service import Service, ServiceOptions

    logging.basicConfig(
        level=os.environ.get("RAIWATCH_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_log_redaction()  # every handler: secrets masked in every log line
    for noisy in ("apscheduler", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = settings_for(home)
    updates = {k: v for k, v in {"api_host": host, "api_port": port}.items() if v is not None}
    settings = settings.model_copy(update=updates)
    options = ServiceOptions(
        backoff_base_s=backoff_base, delivery_poll_s=poll_interval,
        reconcile_interval_s=reconcile_interval, run_lease_s=run_lease, workers=workers,
        delivery_lease_s=delivery_lease,
    )  # fmt: skip
    Service(settings, options).serve()


def monitor_add(
    file: Annotated[Path, typer.Option("--file", "-f", help="monitor YAML")],
    home: Home = None,
) -> None:
    """Add (or update) a monitor from YAML; webhook secrets are read now and stored."""
    spec = load_monitor_spec(file)
    settings = settings_for(home)
    store = open_store(settings)
    champion = store.get_model_version(spec.model, spec.version)  # must be registered
    if spec.challenger is not None:  # so must the challenger, with its baseline
        if champion.task == "regression":
            raise SchemaError(
                f"monitor file {str(file)!r}: 'challenger' compares classifiers (accuracy on the same "
                f"requests); {spec.model}:{spec.version} is a regression model, for which no verdict "
                "is computed yet: monitor each version with its own monitor and compare their "
                "performance results, or remove 'challenger'"
            )
        store.get_model_version(spec.model, spec.challenger.version)
        store.load_baseline(spec.model, spec.challenger.version)
    policy = DestinationPolicy.from_settings(
        settings.webhook_allowed_networks, settings.webhook_allow_loopback
    )
    for w in spec.webhooks:
        problem = policy.problem(w.url)
        if problem:
            raise SchemaError(f"monitor file {str(file)!r}: {problem}")
    endpoints = [
        EndpointSpec(
            url=w.url,
            secret=w.resolve_secret(dict(os.environ)),
            events=tuple(w.events),
            timeout_s=w.timeout.total_seconds(),
            max_attempts=w.max_attempts,
        )
        for w in spec.webhooks
    ]
    start = spec.start or dt.datetime.now(dt.UTC)
    store.upsert_monitor(spec.name, spec.model, spec.version, spec.stored_dict(),
                         start_at=start, endpoints=endpoints)  # fmt: skip
    store.set_monitor_enabled(spec.name, spec.enabled)
    console.print(
        f"monitor [bold]{spec.name}[/] on {spec.model}:{spec.version}: schedule "
        f"'{spec.schedule}' ({spec.timezone}), window {spec.window}, "
        f"{len(endpoints)} webhook(s); runs from {start.isoformat()}"
    )


def monitor_list(home: Home = None, fmt: FormatOption = OutputFormat.table) -> None:
    """List monitors with their last completed window and alert states."""
    store = open_store(settings_for(home))
    states = store.list_alert_states()
    rows = []
    for m in store.list_monitors():
        spec = MonitorSpec.from_stored(m.spec)
        firing = [s.signal for s in states if s.monitor == m.name and s.state == "firing"]
        clock = store.retrain_schedule(m.name, spec.retrain_every) if spec.retrain_every else None
        rows.append({
            "name": m.name, "enabled": m.enabled, "model": f"{m.model_name}:{m.model_version}",
            "schedule": spec.schedule, "window": str(spec.window),
            "last_window_end": m.last_completed_end, "firing": firing,
            "challenger": f"{spec.challenger.version} ({spec.challenger.mode})" if spec.challenger else None,
            "retrain_due": clock.next_due_at if clock else None,
        })  # fmt: skip
    emit(rows, fmt, title="monitors",
         columns=["name", "enabled", "model", "schedule", "window", "last_window_end", "firing",
                  "challenger", "retrain_due"])  # fmt: skip


def monitor_backfill(
    name: Annotated[str, typer.Argument(help="monitor name")],
    start: Annotated[str, typer.Option(help="first tick (ISO), inclusive")],
    end: Annotated[str, typer.Option(help="last tick (ISO), inclusive")],
    notify: Annotated[bool, typer.Option(help="evaluate alerts and send webhooks")] = False,
    home: Home = None,
) -> None:
    """Run a monitor over every window of a past range, with a progress bar."""
    t0, t1 = parse_range(start, end, inclusive=True)  # checked before anything is read or written
    settings = settings_for(home)
    store = open_store(settings)
    named = os.environ.get("RAIWATCH_EVALUATOR")
    evaluator = (
        load_evaluator(named, store, settings) if named else EngineEvaluator(store, settings)
    )
    runner = MonitorRunner(store, evaluator, dashboard_url=settings.dashboard_url)
    t0, t1 = parse_range(start, end)
    total = len(windows_between(runner.spec(name), t0, t1))
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(f"backfill {name}", total=total)
        ids = runner.backfill(name, t0, t1, notify=notify,
                              progress=lambda w, i: progress.update(task, completed=i))  # fmt: skip
    statuses = [store.get_run(i).status for i in ids]
    summary = ", ".join(f"{s}={statuses.count(s)}" for s in sorted(set(statuses)))
    console.print(f"backfilled {len(ids)} window(s) of {name}: {summary or 'none'}")


@webhooks_app.command("list")
def webhooks_list(
    status: Annotated[str | None, typer.Option(help="pending, sending, delivered or dead")] = None,
    monitor: Annotated[str | None, typer.Option(help="only this monitor")] = None,
    limit: int = 50,
    home: Home = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List webhook deliveries, newest first."""
    store = open_store(settings_for(home))
    rows = [
        {"id": d.id, "event": d.event_type, "url": d.url, "webhook_id": d.message_id,
         "run_id": d.run_id, "status": d.status, "attempts": d.attempts,
         "last_error": d.last_error, "created_at": d.created_at}
        for d in store.list_deliveries(status=status, monitor=monitor, limit=limit)
    ]  # fmt: skip
    emit(rows, fmt, title="webhook deliveries",
         columns=["id", "event", "url", "webhook_id", "status", "attempts", "last_error"])  # fmt: skip


@webhooks_app.command("redeliver")
def webhooks_redeliver(
    ids: Annotated[list[int] | None, typer.Argument(help="delivery ids")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="every dead delivery")] = False,
    home: Home = None,
) -> None:
    """Queue deliveries again (same webhook-id, fresh attempt budget)."""
    if not ids and not all_dead:
        raise SchemaError("give delivery ids (see 'raiwatch webhooks list') or --all-dead")
    store = open_store(settings_for(home))
    n = store.redeliver(ids or [], all_dead=all_dead)
    console.print(f"queued {n} deliver{'y' if n == 1 else 'ies'}; 'raiwatch serve' sends them")


@apikey_app.command("create")
def apikey_create(
    name: str,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="ingest, read or admin (repeat for several); default admin"),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="limit the key to this model name (repeat for several)"),
    ] = None,
    home: Home = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    scopes = scope or ["admin"]
    key = open_store(settings_for(home)).create_api_key(name, scopes=scopes, models=model or None)
    where = f"models {', '.join(sorted(set(model)))}" if model else "every model"
    err_console.print(f"API key [bold]{name}[/] created (scopes {', '.join(scopes)}; {where}); "
                      "store it now, it is not shown again:")  # fmt: skip
    if scope is None:
        err_console.print("[yellow]no --scope given: this is an admin key (as keys were before "
                          "scopes existed); use --scope ingest / --scope read for least privilege[/]")  # fmt: skip
    print(key)


@apikey_app.command("list")
def apikey_list(home: Home = None, fmt: FormatOption = OutputFormat.table) -> None:
    """List API keys (name, prefix, scopes, models, dates; never the key)."""
    rows = [
        {"name": k.name, "prefix": k.prefix + "…", "scopes": ",".join(k.scopes),
         "models": "*" if k.models is None else ",".join(k.models),
         "created": k.created_at, "revoked": k.revoked_at}
        for k in open_store(settings_for(home)).list_api_keys()
    ]  # fmt: skip
    emit(
        rows,
        fmt,
        title="API keys",
        columns=["name", "prefix", "scopes", "models", "created", "revoked"],
    )


@apikey_app.command("revoke")
def apikey_revoke(name: str, home: Home = None) -> None:
    """Revoke an API key (refused from the next request on, also by a running server)."""
    open_store(settings_for(home)).revoke_api_key(name)
    console.print(f"API key {name} revoked")
