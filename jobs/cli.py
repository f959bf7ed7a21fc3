"""The ``raiwatch`` command line: one entry point for every job.

Errors raised on purpose (:class:`monitor.errors.RaiwatchError`) are printed as
one readable message and exit with status 2; ``--fail-on alert`` makes
``monitor run`` exit with status 1 when a signal is in alert.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from jobs.cli_common import (
    FormatOption,
    OutputFormat,
    console,
    emit,
    err_console,
    load_baseline,
    log_store,
    open_store,
    parse_range,
    parse_time,
    row_progress,
    settings_for,
)
from jobs.spark_jobs import (
    ENGINE_HELP,
    check_engine,
    log_store_source,
    spark_engine,
    spark_settings,
)
from monitor.baseline.detection_limits import detection_limits
from monitor.baseline.reference import Baseline, create_baseline
from monitor.errors import RaiwatchError, SchemaError
from monitor.ingest.sources import iter_batches
from monitor.redaction import redact
from monitor.segments.spec import DEFAULT_SEGMENT_BUDGET, SegmentSpec, load_segments, parse_segments
from monitor.signals.evaluate import WindowReport, evaluate_window
from monitor.signals.results import SignalResult
from monitor.spec.model_version import load_model_version
from monitor.spec.settings import Settings
from monitor.spec.signal_config import SignalConfig
from monitor.spec.window import Window

app = typer.Typer(
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    help="raiwatch: watch ML models in production and review them before release.",
)
model_app = typer.Typer(no_args_is_help=True, help="Register and list model versions.")
baseline_app = typer.Typer(no_args_is_help=True, help="Build baselines from reference data.")
logs_app = typer.Typer(no_args_is_help=True, help="Ingest inference logs.")
labels_app = typer.Typer(no_args_is_help=True, help="Ingest ground-truth labels.")
monitor_app = typer.Typer(no_args_is_help=True, help="Evaluate and schedule monitors.")
app.add_typer(model_app, name="model")
app.add_typer(baseline_app, name="baseline")
app.add_typer(logs_app, name="logs")
app.add_typer(labels_app, name="labels")
app.add_typer(monitor_app, name="monitor")

Home = Annotated[
    Path | None,
    typer.Option("--home", help="data directory (default $RAIWATCH_HOME or ./.raiwatch)"),
]
ModelName = Annotated[str, typer.Option("--model", "-m", help="model name")]
Engine = Annotated[str, typer.Option("--engine", help=ENGINE_HELP)]
SparkMaster = Annotated[
    str | None,
    typer.Option("--spark-master", help="Spark master for --engine spark (default local[2])"),
]
SparkConf = Annotated[
    list[str] | None,
    typer.Option("--spark-conf", help="Spark setting key=value for --engine spark (repeatable)"),
]
Version = Annotated[str, typer.Option("--version", "-v", help="model version")]

_STYLE = {
    "ok": "green",
    "warning": "yellow",
    "alert": "bold red",
    "error": "magenta",
    "no_data": "dim",
}


@model_app.command("register")
def model_register(
    file: Annotated[Path, typer.Option("--file", "-f", help="model-version YAML")],
    home: Home = None,
) -> None:
    """Register a model version from YAML (same definition again is a no-op)."""
    mv = load_model_version(file)
    open_store(settings_for(home)).register_model_version(mv)
    console.print(
        f"registered model version [bold]{mv.name}:{mv.version}[/] ({mv.task}, {len(mv.features)} features)"
    )


@model_app.command("list")
def model_list(home: Home = None, fmt: FormatOption = OutputFormat.table) -> None:
    """List registered model versions."""
    versions = open_store(settings_for(home)).list_model_versions()
    rows = [
        {"model": mv.name, "version": mv.version, "task": mv.task, "features": len(mv.features)}
        | ({"spec": mv.model_dump(mode="json")} if fmt is OutputFormat.json else {})
        for mv in versions
    ]
    emit(rows, fmt, columns=["model", "version", "task", "features"])


@baseline_app.command("create")
def baseline_create(
    data: Annotated[
        str,
        typer.Option(
            "--data", "-d", help="reference data: CSV, Parquet or JSONL file, or a Delta table directory (Spark: Parquet/Delta path or URI, or a table)"
        ),
    ],
    model: Annotated[str | None, typer.Option("--model", "-m")] = None,
    version: Annotated[str | None, typer.Option("--version", "-v")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="model-version YAML (registers it)")
    ] = None,
    seed: int = 0,
    segments: Annotated[
        Path | None,
        typer.Option("--segments", help="a monitor YAML whose `segments:` get a profile each"),
    ] = None,
    engine: Engine = "local",
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
    home: Home = None,
) -> None:
    """Profile reference data into the model version's baseline (raw data is not kept)."""
    check_engine(engine)
    settings = settings_for(home)
    store = open_store(settings)
    if file is not None:
        mv = load_model_version(file)
        store.register_model_version(mv)
    elif model and version:
        mv = store.get_model_version(model, version)
    else:
        raise SchemaError(
            "baseline create needs --file model.yaml, or --model and --version of a registered model"
        )
    model = None
    if mv.model_uri:  # the real model, for its baseline importance (attribution drift)
        from monitor.baseline.model_loader import load_model

        model = load_model(mv.model_uri)
    on_spark = spark_engine(spark_settings(spark_master, spark_conf or [])) if engine == "spark" else None
    with row_progress(f"profiling {Path(data).name}" + (" on Spark" if on_spark else "")) as advance:
        baseline = create_baseline(
            mv, data, bins=settings.histogram_bins,
            reservoir_size=settings.reservoir_size, top_k=settings.top_k_categories, seed=seed,
            batch_rows=settings.batch_rows, threads=settings.threads, on_batch=advance, model=model,
            engine=on_spark, segments=load_segments(segments)[0] if segments is not None else (),
        )  # fmt: skip
    bid = store.save_baseline(mv.name, mv.version, baseline.to_document(), baseline.sample_bytes())
    console.print(
        f"baseline #{bid} for [bold]{mv.name}:{mv.version}[/]: {baseline.profile.row_count:,} rows, "
        f"{len(baseline.profile.columns)} columns, {baseline.profile.reservoir.num_rows:,} sampled rows"
    )
    for part, value in sorted((baseline.performance or {}).items()):
        console.print(f"  {part}: {value.get('error', 'ready')}")
    if baseline.segments is not None:
        sizes = ", ".join(f"{k} ({p.row_count:,})" for k, p in baseline.segments.profiles.items())
        console.print(f"  segments: {sizes}")
    limits = detection_limits(baseline, SignalConfig())
    if limits["mean_shift_detectable_at_95pct_power"]:
        shown = ", ".join(f"{v}σ at {k} rows" for k, v in limits["mean_shift_detectable_at_95pct_power"].items())
        console.print(f"  detectable mean shift (95 % power, default budget): {shown}")
    for warning in limits["warnings"]:
        console.print(f"  [yellow]warning:[/] {warning}")


def _ingest(
    model: str, version: str, files: list[Path], home: Path | None, labels: bool, rerun: bool = False,
    force: bool = False,
) -> None:
    settings = settings_for(home)
    request_ids: list[str] = []
    mv = open_store(settings).get_model_version(model, version)
    logs = log_store(settings)
    total_acc = total_q = 0
    for f in files:
        report = logs.ingest_file(mv, f, labels=labels, force=force)
        if report.already_ingested is not None:
            first = report.already_ingested
            console.print(
                f"{f}: skipped, the same content was already ingested for {mv.name}:{mv.version} "
                f"({first.get('file')} at {first.get('at')}); pass --force to ingest it again"
            )
            continue
        total_acc += report.accepted
        total_q += report.quarantined
        extra = f", ignored columns {report.ignored_columns}" if report.ignored_columns else ""
        te = (
            f", {report.with_type_errors} with type errors kept as null"
            if report.with_type_errors
            else ""
        )
        console.print(
            f"{f}: accepted {report.accepted:,}{te}, quarantined {report.quarantined:,}{extra}"
        )
        for reason, n in sorted(report.reasons.items()):
            console.print(f"  quarantined {n:,} × {reason}")
        if report.duplicates:
            console.print(
                f"  skipped {report.duplicates:,} row(s) whose request id is already stored "
                "(not stored twice)"
            )
        if labels:
            console.print(
                f"  {report.relabelled:,} replaced an earlier label (the label that arrived last wins); "
                f"{report.unknown_ids:,} name no logged request yet (kept aside until it is logged)"
            )
            request_ids += report.request_ids
    console.print(f"[bold]total[/]: accepted {total_acc:,}, quarantined {total_q:,}")
    if labels and rerun and request_ids:
        from jobs.relabel import rerun_for_labels

        runs = rerun_for_labels(open_store(settings), settings, mv, request_ids)
        console.print(f"re-ran {len(runs)} stored window(s) whose requests got labels")


@logs_app.command("ingest")
def logs_ingest(
    files: list[Path],
    model: ModelName,
    version: Version,
    home: Home = None,
    force: Annotated[bool, typer.Option(help="ingest a file even if its content was ingested before")] = False,
) -> None:
    """Ingest inference-log files; rows that do not fit are quarantined with a reason.

    A file whose content was already ingested is skipped (``--force`` overrides);
    rows whose request id is already stored are never stored twice.
    """
    _ingest(model, version, files, home, labels=False, force=force)


@logs_app.command("compact")
def logs_compact(
    model: Annotated[str | None, typer.Option("--model", "-m", help="only this model")] = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="only this version")] = None,
    min_files: Annotated[int, typer.Option(help="compact a day holding at least this many files")] = 8,
    home: Home = None,
) -> None:
    """Merge each day's small log files into few large ones (atomic; safe to interrupt)."""
    from jobs.compaction_job import compact_all

    if min_files < 2:
        raise SchemaError(f"--min-files must be at least 2, got {min_files}")
    settings = settings_for(home)
    store = open_store(settings)
    versions = [mv for mv in store.list_model_versions()
                if (model is None or mv.name == model) and (version is None or mv.version == version)]  # fmt: skip
    if (model or version) and not versions:
        raise SchemaError(f"no registered model version matches --model {model} --version {version}; "
                          "see 'raiwatch model list'")  # fmt: skip
    for name, report in compact_all(store, log_store(settings), min_files=min_files, versions=versions).items():
        console.print(f"{name}: {report.days} day(s) compacted, {report.files_before:,} files -> "
                      f"{report.files_after:,}, {report.rows:,} rows")  # fmt: skip


@labels_app.command("ingest")
def labels_ingest(
    files: list[Path],
    model: ModelName,
    version: Version,
    rerun: Annotated[
        bool, typer.Option(help="re-run stored windows whose requests got labels")
    ] = True,
    home: Home = None,
    force: Annotated[bool, typer.Option(help="ingest a file even if its content was ingested before")] = False,
) -> None:
    """Ingest label files (request_id, label[, label_timestamp]); re-run affected windows.

    Corrections are decided by arrival order: the label ingested last wins.
    """
    _ingest(model, version, files, home, labels=True, rerun=rerun, force=force)


def parse_optional_time(value: str | None, what: str) -> dt.datetime | None:
    return None if value is None else parse_time(value, what)


def load_signal_config(path: Path | None) -> SignalConfig:
    if path is None:
        return SignalConfig()
    if not path.is_file():
        raise SchemaError(f"signals file {str(path)!r} does not exist; check the path")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise SchemaError(f"signals file {str(path)!r} is not valid YAML: {err}") from None
    block = data.get("signals", data) if isinstance(data, dict) else data
    try:
        return SignalConfig.model_validate(block or {})
    except Exception as err:
        raise SchemaError(f"invalid signals in {path}: {err}") from None


def _config_segments(path: Path | None) -> tuple[tuple[SegmentSpec, ...], float]:
    """The ``segments:`` of the ``--config`` file (none when it has no such block)."""
    if path is None or not path.is_file():
        return (), DEFAULT_SEGMENT_BUDGET
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or "segments" not in data:
        return (), DEFAULT_SEGMENT_BUDGET
    return parse_segments(data, source=str(path))


def print_report(report: WindowReport, *, show_ok: bool = False) -> None:
    table = Table(
        title=f"{report.model}:{report.version}  rows={report.row_count:,}  status={report.status}"
    )
    segmented = any(r.segment is not None for r in report.results)
    for col in ("segment",) * segmented + ("signal", "feature", "metric", "value", "threshold", "status", "note"):
        table.add_column(col)
    for r in report.results:
        if not show_ok and r.status == "ok" and r.signal == "data_quality":
            continue
        if not show_ok and r.segment is not None and r.status in ("ok", "no_data"):
            continue  # per-segment rows: only what needs a look (--all shows every one)
        table.add_row(
            *((r.segment or "(all)",) if segmented else ()),
            r.signal,
            r.feature or "—",
            r.metric,
            _fmt(r.value),
            _fmt(r.threshold),
            f"[{_STYLE[r.status]}]{r.status}[/]",
            r.message or "",
        )
    console.print(table)


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


@monitor_app.command("run")
def monitor_run(
    model: ModelName,
    version: Version,
    start: Annotated[str | None, typer.Option(help="window start (ISO), inclusive")] = None,
    end: Annotated[str | None, typer.Option(help="window end (ISO), exclusive")] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="evaluate this CSV/Parquet/JSONL file or Delta table directory instead of the log store (Spark: a Parquet/Delta path, URI or table)",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML with a `signals:` block (and `segments:`, as a monitor file)"),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the results as JSON here")
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option(help="exit 1 when a result has this status: alert or warning")
    ] = None,
    evidently_html: Annotated[
        Path | None, typer.Option(help="also export the window as an Evidently HTML report")
    ] = None,
    evidently_json: Annotated[
        Path | None, typer.Option(help="also export the window as Evidently JSON")
    ] = None,
    all_results: Annotated[
        bool, typer.Option("--all", help="show passing data-quality rows too")
    ] = False,
    engine: Engine = "local",
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
    home: Home = None,
) -> None:
    """Evaluate a model version's signals on one window against its baseline."""
    check_engine(engine)
    if fail_on not in (None, "alert", "warning"):
        raise SchemaError(f"--fail-on must be 'alert' or 'warning', got {fail_on!r}")
    t0: dt.datetime | None
    t1: dt.datetime | None
    if start is not None and end is not None:
        t0, t1 = parse_range(start, end)  # checked before anything is read or written
    else:
        t0, t1 = parse_optional_time(start, "--start"), parse_optional_time(end, "--end")
    settings = settings_for(home)
    store = open_store(settings)
    baseline = load_baseline(store, model, version)
    mv = baseline.model_version
    signal_config = load_signal_config(config)
    segment_specs = _config_segments(config)
    if engine == "spark":
        if segment_specs[0]:
            raise SchemaError("segments are profiled by the local engine; drop --engine spark or `segments:`")
        from monitor.engines.spark_window import evaluate_on_spark

        if file is None and (t0 is None or t1 is None):
            raise SchemaError("monitor run needs --start and --end for the log store, or --file")
        on_spark = spark_engine(spark_settings(spark_master, spark_conf or []))
        source = file if file is not None else log_store_source(settings.log_dir, mv)
        with console.status("profiling the window on Spark"):
            report = evaluate_on_spark(
                on_spark, baseline, source, config=signal_config,
                window=Window(t0, t1) if t0 is not None and t1 is not None else None,
                time_column=None if file is not None else mv.timestamp_column,
                labels=log_store(settings).read_labels(mv),
            )  # fmt: skip
    else:
        report = _run_local(settings, baseline, file, t0, t1, signal_config, segment_specs)
    _finish_run(report, baseline, json_out, fail_on, evidently_html, evidently_json, all_results)


def _run_local(
    settings: Settings,
    baseline: Baseline,
    file: str | None,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    signal_config: SignalConfig,
    segments: tuple[tuple[SegmentSpec, ...], float] = ((), DEFAULT_SEGMENT_BUDGET),
) -> WindowReport:
    mv = baseline.model_version
    if file is not None:
        batches = iter_batches(file, batch_rows=settings.batch_rows)
    else:
        if t0 is None or t1 is None:
            raise SchemaError("monitor run needs --start and --end for the log store, or --file")
        batches = log_store(settings).scan(mv, t0, t1, batch_rows=settings.batch_rows)
    with row_progress("profiling window") as advance:
        return evaluate_window(
            baseline,
            batches,
            config=signal_config,
            window=Window(t0, t1) if t0 is not None and t1 is not None else None,
            threads=settings.threads,
            on_batch=advance,
            labels=log_store(settings).read_labels(mv),  # joined by request id
            segments=segments[0],
            segment_budget=segments[1],
        )


def _finish_run(
    report: WindowReport,
    baseline: Baseline,
    json_out: Path | None,
    fail_on: str | None,
    evidently_html: Path | None,
    evidently_json: Path | None,
    all_results: bool,
) -> None:
    print_report(report, show_ok=all_results)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.to_dict(), indent=2))
        console.print(f"results written to {json_out}")
    if (evidently_html or evidently_json) and report.profile is not None and report.row_count:
        from monitor.signals.evidently_report import export_evidently_report

        export_evidently_report(
            baseline, report.profile, html_path=evidently_html, json_path=evidently_json
        )
        console.print(f"Evidently report written to {evidently_html or ''} {evidently_json or ''}")
    if fail_on is not None and _fails(report.results, fail_on):
        raise typer.Exit(1)


def _fails(results: list[SignalResult], fail_on: str) -> bool:
    bad = {"alert"} if fail_on == "alert" else {"alert", "warning"}
    return any(r.status in bad for r in results)


@app.command("demo")
def demo(
    home: Annotated[Path, typer.Option("--home", help="where the demo writes its store")] = Path(
        ".raiwatch-demo"
    ),
    days: int = 28,
    drift_day: int = 18,
    seed: int = 0,
) -> None:
    """Run the whole demo on the embedded defaults (SQLite + local Parquet)."""
    from jobs.demo import run_demo

    run_demo(home=home, days=days, drift_day=drift_day, seed=seed, lifecycle=True)


def _version(value: bool) -> None:
    if value:
        from jobs import __version__

        typer.echo(f"raiwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """raiwatch: watch ML models in production and review them before release."""


def _mount_subcommands() -> None:
    """The service, RAI, dashboard and operator commands live in their own modules."""
    from jobs import cli_dashboard, cli_ops, cli_rai, cli_service

    app.command("serve")(cli_service.serve)
    app.command("dashboard")(cli_dashboard.dashboard)
    app.command("dashboard-password")(cli_dashboard.dashboard_password)
    monitor_app.command("add")(cli_service.monitor_add)
    monitor_app.command("list")(cli_service.monitor_list)
    monitor_app.command("backfill")(cli_service.monitor_backfill)
    monitor_app.command("delete")(cli_ops.monitor_delete)
    monitor_app.command("promote")(cli_ops.monitor_promote)
    app.add_typer(cli_ops.runs_app, name="runs")
    app.add_typer(cli_ops.alerts_app, name="alerts")
    app.add_typer(cli_service.webhooks_app, name="webhooks")
    app.add_typer(cli_service.apikey_app, name="apikey")
    app.add_typer(cli_rai.app, name="rai")


_mount_subcommands()


def main() -> None:
    try:
        app(prog_name="raiwatch")  # also when run as `python -m` / `python -c` (completion, help)
    except RaiwatchError as err:
        err_console.print(f"[bold red]error:[/] {redact(err)}", markup=True, highlight=False)
        sys.exit(2)
