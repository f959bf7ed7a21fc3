"""Read-only fleet queries over the store's tables (SQLAlchemy Core).

The overview needs, for every model version, the latest run of each monitor,
the signals in alert in those runs and a sparkline of dataset drift. Each comes
from one set-based query whatever the number of model versions (no N+1), so a
fleet of 1,000 versions with 90 runs each loads in well under a second.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import and_, func, inspect, select
from sqlalchemy.engine import Engine

from monitor.signals.results import worst_status
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
    "last_run",
    "monitors",
    "runs",
    "rows",
    "in_alert",
    "drift",
]


def schema_ready(engine: Engine) -> bool:
    """Whether the store's tables exist (the store was migrated)."""
    return inspect(engine).has_table(RunRow.__tablename__)


def _latest_per_monitor() -> Any:
    """``(monitor, window_end, n_runs)`` of the newest window of every monitor.

    ``MAX``/``COUNT`` grouped by monitor are answered from the unique
    ``(monitor, window_start, window_end)`` index without sorting the runs.
    """
    return (
        select(
            RUNS.c.monitor,
            func.max(RUNS.c.window_end).label("last_end"),
            func.count().label("n_runs"),
        )
        .group_by(RUNS.c.monitor)
        .subquery("latest")
    )


def _latest_runs_query() -> Any:
    latest = _latest_per_monitor()
    return select(
        RUNS.c.id,
        RUNS.c.monitor,
        RUNS.c.model_name,
        RUNS.c.model_version,
        RUNS.c.window_end,
        RUNS.c.status,
        RUNS.c.row_count,
        latest.c.n_runs,
    ).select_from(latest).join(
        RUNS,
        and_(
            RUNS.c.monitor == latest.c.monitor,
            # wrapped so SQLite looks runs up by monitor (~runs per monitor rows), not by
            # window_end (which every monitor of a daily fleet shares)
            func.coalesce(RUNS.c.window_end, latest.c.last_end) == latest.c.last_end,
        ),
    )


def latest_runs(engine: Engine) -> pd.DataFrame:
    """The newest run of every monitor, with the monitor's number of runs."""
    query = _latest_runs_query()
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=list(query.selected_columns.keys()))
    # two runs may end at the same time (different starts): keep the newest id
    return frame.sort_values("id").drop_duplicates("monitor", keep="last").reset_index(drop=True)


def alerting_results(engine: Engine) -> pd.DataFrame:
    """``(monitor, signal, feature)`` of every result in alert in a monitor's latest run."""
    latest = _latest_runs_query().subquery("latest_runs")
    query = (
        select(latest.c.monitor, RESULTS.c.signal, RESULTS.c.feature)
        .join(RESULTS, RESULTS.c.run_id == latest.c.id)
        .where(RESULTS.c.status == "alert")
        .order_by(latest.c.monitor, RESULTS.c.position)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=["monitor", "signal", "feature"])
    return frame.drop_duplicates()


def drift_sparklines(engine: Engine, runs: int = SPARKLINE_RUNS) -> dict[str, list[float]]:
    """Dataset-drift share of the newest ``runs`` runs of each monitor, oldest first.

    The newest runs are ranked in SQL and each monitor's values come back as one
    aggregated row, so 1,000 monitors × 90 runs transfer 1,000 rows, not 90,000.
    """
    ranked = (
        select(
            RUNS.c.monitor,
            RUNS.c.window_end,
            RESULTS.c.value,
            func.row_number()
            .over(partition_by=RUNS.c.monitor, order_by=RUNS.c.window_end.desc())
            .label("rn"),
        )
        .join(RESULTS, and_(RESULTS.c.run_id == RUNS.c.id, RESULTS.c.signal == "dataset_drift"))
        .subquery("ranked")
    )
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        agg = func.array_agg(aggregate_order_by(ranked.c.value, ranked.c.window_end))
        query = select(ranked.c.monitor, agg).where(ranked.c.rn <= runs).group_by(ranked.c.monitor)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        return {str(m): [float(v) for v in values if v is not None] for m, values in rows}
    # SQLite (and others): group_concat keeps the order of an ordered subquery.
    newest = (
        select(ranked.c.monitor, ranked.c.value)
        .where(ranked.c.rn <= runs, ranked.c.value.is_not(None))
        .order_by(ranked.c.monitor, ranked.c.window_end)
        .subquery("newest")
    )
    query = select(newest.c.monitor, func.group_concat(newest.c.value, ",")).group_by(newest.c.monitor)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {str(m): [float(v) for v in (text or "").split(",") if v] for m, text in rows}


def model_versions(engine: Engine) -> pd.DataFrame:
    """Every registered model version: name, version and task."""
    query = select(MV.c.name, MV.c.version, MV.c.spec).order_by(MV.c.name, MV.c.version)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(
        [(n, v, (s or {}).get("task", "")) for n, v, s in rows],
        columns=["model", "version", "task"],
    )


def _in_alert_text(alerts: pd.DataFrame) -> dict[str, str]:
    """``signal: feature, feature; signal`` per monitor."""
    out: dict[str, str] = {}
    for monitor, group in alerts.groupby("monitor", sort=False):
        parts = []
        for signal, feats in group.groupby("signal", sort=False)["feature"]:
            names = [f for f in feats if isinstance(f, str)]
            parts.append(f"{signal}: {', '.join(names)}" if names else str(signal))
        out[str(monitor)] = "; ".join(parts)
    return out


def fleet_overview(engine: Engine) -> pd.DataFrame:
    """One row per model version for the overview (see :data:`FLEET_COLUMNS`).

    ``status`` is the worst status of the latest run of each of the version's
    monitors, ``no_data`` when it has no run yet; ``drift`` lists the dataset
    drift share of the newest runs, oldest first.
    """
    versions = model_versions(engine)
    latest = latest_runs(engine)
    in_alert = _in_alert_text(alerting_results(engine))
    lines = drift_sparklines(engine)
    by_version: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in latest.to_dict("records"):
        by_version.setdefault((row["model_name"], row["model_version"]), []).append(row)
    records = []
    for mv in versions.to_dict("records"):
        runs = by_version.pop((mv["model"], mv["version"]), [])
        records.append(_fleet_record(mv, runs, in_alert, lines))
    for (name, version), runs in by_version.items():  # runs of an unregistered version
        records.append(
            _fleet_record({"model": name, "version": version, "task": ""}, runs, in_alert, lines)
        )
    frame = pd.DataFrame(records, columns=FLEET_COLUMNS)
    frame["_rank"] = frame["status"].map({s: i for i, s in enumerate(BADGE_ORDER)})
    return (
        frame.sort_values(["_rank", "model", "version"])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _fleet_record(
    mv: dict[str, Any],
    runs: list[dict[str, Any]],
    in_alert: dict[str, str],
    lines: dict[str, list[float]],
) -> dict[str, Any]:
    monitors = sorted(r["monitor"] for r in runs)
    newest = max(runs, key=lambda r: r["window_end"]) if runs else None
    return {
        **mv,
        "status": worst_status([r["status"] for r in runs]) if runs else "no_data",
        "last_run": newest["window_end"] if newest else None,
        "monitors": ", ".join(monitors),
        "runs": int(sum(r["n_runs"] for r in runs)),
        "rows": int(newest["row_count"]) if newest else None,
        "in_alert": "; ".join(in_alert[m] for m in monitors if m in in_alert),
        "drift": lines.get(newest["monitor"], []) if newest else [],
    }
