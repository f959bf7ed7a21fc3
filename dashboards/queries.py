"""Read-only fleet queries over the store's tables (SQLAlchemy Core).

The overview needs, for every model version, the latest run *with data* of each
monitor (a window without rows is a gap, not a state), its firing alerts and
what people did about them, and a sparkline of dataset drift with gaps. Each
comes from one set-based query whatever the number of model versions (no N+1),
so a fleet of 1,000 versions with 90 runs each loads in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import String, and_, case, cast, func, inspect, select
from sqlalchemy.engine import Engine

from dashboards.traffic import TrafficState, traffic_state, traffic_text
from monitor.signals.results import worst_status
from monitor.signals.traffic import SIGNAL as TRAFFIC
from monitor.store.tables_runs import ModelVersionRow, RunRow, SignalResultRow

MV = ModelVersionRow.__table__
RUNS = RunRow.__table__
RESULTS = SignalResultRow.__table__

#: How many of the newest runs of a monitor the drift sparkline shows.
SPARKLINE_RUNS = 30

#: Overview badges, most severe first (``no_data`` also stands for "no runs yet").
BADGE_ORDER: tuple[str, ...] = ("error", "alert", "warning", "ok", "no_data")

FLEET_COLUMNS = [
    "model",
    "version",
    "task",
    "status",
    "unhandled",
    "handling",
    "last_data",
    "last_run",
    "quiet",
    "monitors",
    "runs",
    "rows",
    "in_alert",
    "drift",
]


def schema_ready(engine: Engine) -> bool:
    """Whether the store's tables exist (the store was migrated)."""
    return inspect(engine).has_table(RunRow.__tablename__)


def _latest_per_monitor(*, with_data: bool) -> Any:
    """``(monitor, last_end, n_runs)`` of the newest window of every monitor.

    With ``with_data`` only windows that hold evidence count: a window without
    rows (``no_data``) is a gap, not the monitor's state; a failed run
    (``error``) does count, so a broken monitor never looks healthy.
    """
    query = select(
        RUNS.c.monitor,
        func.max(RUNS.c.window_end).label("last_end"),
        func.count().label("n_runs"),
    ).group_by(RUNS.c.monitor)
    if with_data:
        query = query.where(RUNS.c.status != "no_data")
    return query.subquery("latest_data" if with_data else "latest")


def _latest_runs_query(*, with_data: bool = True) -> Any:
    latest = _latest_per_monitor(with_data=with_data)
    return (
        select(
            RUNS.c.id,
            RUNS.c.monitor,
            RUNS.c.model_name,
            RUNS.c.model_version,
            RUNS.c.window_end,
            RUNS.c.status,
            RUNS.c.row_count,
            latest.c.n_runs,
        )
        .select_from(latest)
        .join(
            RUNS,
            and_(
                RUNS.c.monitor == latest.c.monitor,
                # wrapped so SQLite looks runs up by monitor (~runs per monitor rows), not by
                # window_end (which every monitor of a daily fleet shares)
                func.coalesce(RUNS.c.window_end, latest.c.last_end) == latest.c.last_end,
            ),
        )
    )


def latest_runs(engine: Engine, *, with_data: bool = True) -> pd.DataFrame:
    """The newest run of every monitor (with ``with_data``: the newest with rows or an error)."""
    query = _latest_runs_query(with_data=with_data)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=list(query.selected_columns.keys()))
    # two runs may end at the same time (different starts): keep the newest id
    return frame.sort_values("id").drop_duplicates("monitor", keep="last").reset_index(drop=True)


def alerting_results(engine: Engine) -> pd.DataFrame:
    """``(monitor, signal, feature)`` of every result in alert in a monitor's latest run with data."""
    latest = _latest_runs_query().subquery("latest_runs")
    query = (
        select(latest.c.monitor, RESULTS.c.signal, RESULTS.c.feature, RESULTS.c.segment)
        .join(RESULTS, RESULTS.c.run_id == latest.c.id)
        .where(RESULTS.c.status == "alert")
        .order_by(latest.c.monitor, RESULTS.c.position)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["monitor", "signal", "feature", "segment"])
    # a result judged on a segment says where: ``purpose [employment=retired]``
    named = frame["segment"].notna()
    frame.loc[named, "feature"] = [
        f"{f if isinstance(f, str) else 'all'} [{s}]" for f, s in zip(frame.loc[named, "feature"], frame.loc[named, "segment"], strict=True)
    ]
    return frame.drop(columns="segment").drop_duplicates()


def firing_alerts(engine: Engine) -> pd.DataFrame:
    """Every firing ``(monitor, signal)`` with ``since`` and whether a person acknowledged or
    silenced it (see :func:`dashboards.webhook_queries.alert_states`)."""
    from dashboards.webhook_queries import alert_states

    states = alert_states(engine)
    return states[states["state"] == "firing"].reset_index(drop=True)


def drift_sparklines(engine: Engine, runs: int = SPARKLINE_RUNS) -> dict[str, list[float | None]]:
    """Dataset-drift share of the newest ``runs`` runs of each monitor, oldest first.

    A window without rows is a gap (``None``), never a zero: drawn as 0 it would
    look like a recovery. The newest runs are ranked in SQL and each monitor's
    values come back as one aggregated row, so 1,000 monitors × 90 runs transfer
    1,000 rows, not 90,000.
    """
    shown = case((RESULTS.c.status == "no_data", None), else_=RESULTS.c.value)
    ranked = (
        select(
            RUNS.c.monitor,
            RUNS.c.window_end,
            shown.label("value"),
            func.row_number()
            .over(partition_by=RUNS.c.monitor, order_by=RUNS.c.window_end.desc())
            .label("rn"),
        )
        .join(
            RESULTS,
            and_(
                RESULTS.c.run_id == RUNS.c.id,
                RESULTS.c.signal == "dataset_drift",
                RESULTS.c.segment.is_(None),  # the whole window, not its segments
            ),
        )
        .subquery("ranked")
    )
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        agg = func.array_agg(aggregate_order_by(ranked.c.value, ranked.c.window_end))
        query = select(ranked.c.monitor, agg).where(ranked.c.rn <= runs).group_by(ranked.c.monitor)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        return {str(m): [None if v is None else float(v) for v in values] for m, values in rows}
    # SQLite (and others): group_concat keeps the order of an ordered subquery; a gap is ''.
    newest = (
        select(
            ranked.c.monitor,
            func.coalesce(cast(ranked.c.value, String), "").label("text"),
        )
        .where(ranked.c.rn <= runs)
        .order_by(ranked.c.monitor, ranked.c.window_end)
        .subquery("newest")
    )
    query = select(newest.c.monitor, func.group_concat(newest.c.text, ",")).group_by(
        newest.c.monitor
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {str(m): [float(v) if v else None for v in (text or "").split(",")] for m, text in rows}


def model_versions(engine: Engine) -> pd.DataFrame:
    """Every registered model version: name, version and task."""
    query = select(MV.c.name, MV.c.version, MV.c.spec).order_by(MV.c.name, MV.c.version)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(
        [(n, v, (s or {}).get("task", "")) for n, v, s in rows],
        columns=["model", "version", "task"],
    )


def quiet_windows(engine: Engine) -> pd.DataFrame:
    """Per monitor, the windows without rows after its last window with data:
    ``(monitor, quiet, quiet_since)`` (count and start of the first such window)."""
    latest = _latest_per_monitor(with_data=True)
    query = (
        select(RUNS.c.monitor, func.count(), func.min(RUNS.c.window_start))
        .select_from(RUNS.outerjoin(latest, latest.c.monitor == RUNS.c.monitor))
        .where(
            RUNS.c.status == "no_data",
            (latest.c.last_end.is_(None)) | (RUNS.c.window_end > latest.c.last_end),
        )
        .group_by(RUNS.c.monitor)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["monitor", "quiet", "quiet_since"])


def traffic_states(engine: Engine) -> dict[str, TrafficState]:
    """Per monitor, the traffic signal's verdict on its newest window (with or without
    rows); monitors whose newest run has no traffic result are absent."""
    newest = _latest_runs_query(with_data=False).subquery("newest_runs")
    query = (
        select(newest.c.monitor, newest.c.id, RESULTS.c.status, RESULTS.c.value,
               RESULTS.c.threshold, RESULTS.c.details)
        .join(RESULTS, RESULTS.c.run_id == newest.c.id)
        .where(RESULTS.c.signal == TRAFFIC)
        .order_by(newest.c.id)
    )  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out: dict[str, TrafficState] = {}
    for monitor, _, status, value, threshold, details in rows:  # the newest id wins
        state = traffic_state(status, value, threshold, details)
        if state is not None:
            out[str(monitor)] = state
    return out


def _in_alert_text(alerts: pd.DataFrame, firing: pd.DataFrame) -> dict[str, str]:
    """``signal: feature, feature; signal`` per monitor: the firing alerts first, with the
    features in alert in the latest window with data, then results in alert whose alert
    is not firing (for example a run evaluated without an alert policy)."""
    features: dict[tuple[str, str], list[str]] = {}
    for row in alerts.itertuples():
        names = features.setdefault((str(row.monitor), str(row.signal)), [])
        if isinstance(row.feature, str) and row.feature not in names:
            names.append(row.feature)
    signals: dict[str, list[str]] = {}
    for row in firing.itertuples():
        signals.setdefault(str(row.monitor), []).append(str(row.signal))
    for monitor, signal in features:
        if signal not in signals.setdefault(monitor, []):
            signals[monitor].append(signal)
    out: dict[str, str] = {}
    for monitor, names in signals.items():
        parts = []
        for signal in names:
            feats = features.get((monitor, signal), [])
            parts.append(f"{signal}: {', '.join(feats)}" if feats else signal)
        if parts:
            out[monitor] = "; ".join(parts)
    return out


def _handling_text(firing: pd.DataFrame) -> dict[str, tuple[int, str]]:
    """Per monitor: how many firing alerts nobody has handled, and what was done about the rest."""
    out: dict[str, tuple[int, str]] = {}
    for monitor, group in firing.groupby("monitor", sort=False):
        parts = []
        for row in group.itertuples():
            if row.silenced:
                parts.append(f"{row.signal} silenced until {row.silenced_until:%Y-%m-%d %H:%M}")
            elif row.acknowledged:
                parts.append(f"{row.signal} acknowledged by {row.acknowledged_by}")
        unhandled = int((~group["silenced"] & ~group["acknowledged"]).sum())
        out[str(monitor)] = (unhandled, "; ".join(parts))
    return out


def fleet_overview(engine: Engine) -> pd.DataFrame:
    """One row per model version for the overview (see :data:`FLEET_COLUMNS`).

    ``status`` is the worst of the version's firing alerts (``alert``), the
    statuses of each monitor's latest run *with data* (windows without rows are
    gaps, not a state) and the traffic signal's verdict on each monitor's newest
    window (``warning`` or ``alert`` while no rows arrive), ``no_data`` when no
    window had rows yet. ``quiet`` says how many windows in a row had no traffic,
    from the traffic signal (counted from the stored runs for monitors without it). ``drift`` lists the
    dataset-drift share of the newest runs, oldest first, ``None`` for a gap.
    """
    versions = model_versions(engine)
    latest = latest_runs(engine, with_data=True)
    newest = latest_runs(engine, with_data=False)
    firing = firing_alerts(engine)
    context = _FleetContext(
        in_alert=_in_alert_text(alerting_results(engine), firing),
        handling=_handling_text(firing),
        firing=set(firing["monitor"]),
        lines=drift_sparklines(engine),
        quiet={
            r.monitor: (int(r.quiet), r.quiet_since) for r in quiet_windows(engine).itertuples()
        },
        traffic=traffic_states(engine),
        data={r["monitor"]: r for r in latest.to_dict("records")},
    )
    by_version: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in newest.to_dict("records"):
        by_version.setdefault((row["model_name"], row["model_version"]), []).append(row)
    records = []
    for mv in versions.to_dict("records"):
        runs = by_version.pop((mv["model"], mv["version"]), [])
        records.append(_fleet_record(mv, runs, context))
    for (name, version), runs in by_version.items():  # runs of an unregistered version
        records.append(
            _fleet_record({"model": name, "version": version, "task": ""}, runs, context)
        )
    frame = pd.DataFrame(records, columns=FLEET_COLUMNS)
    frame["_rank"] = frame["status"].map({s: i for i, s in enumerate(BADGE_ORDER)})
    return (
        frame.sort_values(
            ["_rank", "unhandled", "model", "version"], ascending=[True, False, True, True]
        )
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class _FleetContext:
    in_alert: dict[str, str]
    handling: dict[str, tuple[int, str]]
    firing: set[str]
    lines: dict[str, list[float | None]]
    quiet: dict[str, tuple[int, Any]]
    data: dict[str, dict[str, Any]]
    traffic: dict[str, TrafficState]


def _fleet_record(
    mv: dict[str, Any], runs: list[dict[str, Any]], ctx: _FleetContext
) -> dict[str, Any]:
    """``runs`` are the newest run of each of the version's monitors (with or without rows)."""
    monitors = sorted(r["monitor"] for r in runs)
    with_data = [ctx.data[m] for m in monitors if m in ctx.data]
    statuses = [r["status"] for r in with_data]
    if any(m in ctx.firing for m in monitors):
        statuses.append("alert")
    silent = [ctx.traffic[m] for m in monitors if m in ctx.traffic and ctx.traffic[m].quiet]
    statuses += [t.status for t in silent]
    newest = max(runs, key=lambda r: r["window_end"]) if runs else None
    freshest = max(with_data, key=lambda r: r["window_end"]) if with_data else None
    # monitors without a traffic result (older runs, signal disabled): count the empty runs
    quiet = [ctx.quiet[m] for m in monitors if m in ctx.quiet and m not in ctx.traffic]
    handled = [ctx.handling[m] for m in monitors if m in ctx.handling]
    shown = freshest or newest
    return {
        **mv,
        "status": worst_status(statuses) if statuses else "no_data",
        "unhandled": sum(n for n, _ in handled),
        "handling": "; ".join(text for _, text in handled if text),
        "last_data": freshest["window_end"] if freshest else None,
        "last_run": newest["window_end"] if newest else None,
        "quiet": traffic_text(max(silent, key=lambda t: t.quiet)) if silent else _quiet_text(quiet),
        "monitors": ", ".join(monitors),
        "runs": int(sum(r["n_runs"] for r in runs)),
        "rows": int(freshest["row_count"]) if freshest else None,
        "in_alert": "; ".join(
            dict.fromkeys(
                p for m in monitors if m in ctx.in_alert for p in ctx.in_alert[m].split("; ")
            )
        ),
        "drift": ctx.lines.get(shown["monitor"], []) if shown else [],
    }


def _quiet_text(quiet: list[tuple[int, Any]]) -> str:
    """``no rows in the last 3 windows (since 2026-10-07)`` for the quietest monitor."""
    if not quiet:
        return ""
    count, since = max(quiet, key=lambda q: q[0])
    when = f" (since {since:%Y-%m-%d %H:%M})" if since is not None else ""
    return f"no rows in the last {count} window{'s' if count != 1 else ''}{when}"
