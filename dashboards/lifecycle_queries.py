"""Read-only queries behind the lifecycle page: retraining clocks, challenger verdicts, promotions.

Pure functions of an engine returning data frames; the page caches them. The
challenger's own window results (drift, performance) come from the run's
``details.challenger`` document, the paired comparison from the ``challenger``
signal's stored results, both written by the runs (nothing is recomputed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from dashboards.queries import RESULTS, RUNS
from monitor.store.base import as_utc
from monitor.store.tables_lifecycle import ModelPromotionRow, RetrainScheduleRow
from monitor.store.tables_runs import MonitorRow

MONITORS = MonitorRow.__table__
SCHEDULES = RetrainScheduleRow.__table__
PROMOTIONS = ModelPromotionRow.__table__

COMPARISON_COLUMNS = [
    "run_id", "window_end", "verdict", "status", "difference", "low", "high", "n_pairs", "agreement",
    "champion_accuracy", "challenger_accuracy", "window_pairs", "mcnemar_p", "e_better", "e_worse", "message",
]  # fmt: skip


def _has(engine: Engine, table: str) -> bool:
    return inspect(engine).has_table(table)


def retrain_schedules(engine: Engine) -> pd.DataFrame:
    """Every monitor with ``retrain_every``: period, next due date, last request and reason.

    Before a monitor's first run its clock is not stored; the first due date is then
    ``start_at + retrain_every`` (what the first run will store).
    """
    with engine.connect() as conn:
        monitors = conn.execute(select(MONITORS.c.name, MONITORS.c.model_name, MONITORS.c.model_version,
                                       MONITORS.c.spec, MONITORS.c.start_at)).all()  # fmt: skip
        stored = (
            {r.monitor: r for r in conn.execute(select(SCHEDULES))}
            if _has(engine, "retrain_schedules")
            else {}
        )
    rows = []
    for m in monitors:
        every = (m.spec or {}).get("retrain_every")
        if not every:
            continue
        s = stored.get(m.name)
        rows.append({
            "monitor": m.name, "model": f"{m.model_name}:{m.model_version}", "every_days": float(every) / 86400,
            "next_due": s.next_due_at if s else as_utc(m.start_at) + dt.timedelta(seconds=float(every)),
            "last_request": s.last_requested_at if s else None, "last_reason": s.last_reason if s else None,
            "requests": s.requests if s else 0,
        })  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=[
            "monitor",
            "model",
            "every_days",
            "next_due",
            "last_request",
            "last_reason",
            "requests",
        ],
    )


def challenger_monitors(engine: Engine) -> pd.DataFrame:
    """Monitors that declare a challenger now or have compared one before."""
    with engine.connect() as conn:
        monitors = conn.execute(select(MONITORS.c.name, MONITORS.c.model_name, MONITORS.c.model_version,
                                       MONITORS.c.spec)).all()  # fmt: skip
        judged = set(conn.scalars(
            select(RUNS.c.monitor).join(RESULTS, RESULTS.c.run_id == RUNS.c.id)
            .where(RESULTS.c.signal == "challenger").distinct()))  # fmt: skip
    rows = []
    for m in monitors:
        challenger = (m.spec or {}).get("challenger") or {}
        if challenger or m.name in judged:
            rows.append({"monitor": m.name, "model": m.model_name, "champion": m.model_version,
                         "challenger": challenger.get("version"), "mode": challenger.get("mode")})  # fmt: skip
    return pd.DataFrame(rows, columns=["monitor", "model", "champion", "challenger", "mode"])


def comparison(engine: Engine, monitor: str) -> pd.DataFrame:
    """The ``challenger`` signal's result of every run of ``monitor``, oldest first."""
    query = (
        select(RUNS.c.id, RUNS.c.window_end, RESULTS.c.status, RESULTS.c.value, RESULTS.c.message, RESULTS.c.details)
        .join(RESULTS, RESULTS.c.run_id == RUNS.c.id)
        .where(RUNS.c.monitor == monitor, RESULTS.c.signal == "challenger", RESULTS.c.status != "no_data")
        .order_by(RUNS.c.window_end)
    )  # fmt: skip
    rows = []
    with engine.connect() as conn:
        for r in conn.execute(query):
            d: dict[str, Any] = r.details or {}
            window = d.get("window") or {}
            low, high = (d.get("interval") or [None, None])[:2]
            rows.append({
                "run_id": r.id, "window_end": r.window_end, "verdict": d.get("verdict"), "status": r.status,
                "difference": r.value, "low": low, "high": high,
                "n_pairs": d.get("n_pairs") or (d.get("cumulative") or {}).get("n_challenger"),
                "agreement": window.get("agreement_all", window.get("agreement_labelled")),
                "champion_accuracy": window.get("champion_accuracy"),
                "challenger_accuracy": window.get("challenger_accuracy"),
                "window_pairs": window.get("pairs", window.get("n_challenger")),
                "mcnemar_p": window.get("mcnemar_p"), "e_better": d.get("e_better"), "e_worse": d.get("e_worse"),
                "message": r.message,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def side_by_side(engine: Engine, run_id: int) -> pd.DataFrame:
    """One window, champion and challenger side by side: status, rows, accuracy, drifted features."""
    with engine.connect() as conn:
        run = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).one()
        own = conn.execute(select(RESULTS).where(RESULTS.c.run_id == run_id)).mappings().all()
    side = (run.details or {}).get("challenger") or {}
    theirs = side.get("results") or []

    def summary(results: list[Any], version: Any, status: Any, rows: Any) -> dict[str, Any]:
        acc = next(
            (
                r["value"]
                for r in results
                if r["signal"] == "performance" and r["metric"] == "accuracy"
            ),
            None,
        )
        drifted = sorted(
            {
                str(r["feature"])
                for r in results
                if r["signal"] == "data_drift" and r["status"] == "alert"
            }
        )
        pred = next((r["status"] for r in results if r["signal"] == "prediction_drift"), None)
        return {"version": version, "status": status, "rows": rows, "accuracy": acc,
                "drifted_features": ", ".join(drifted) or "—", "prediction_drift": pred or "—"}  # fmt: skip

    return pd.DataFrame([
        {"role": "champion", **summary([dict(r) for r in own], run.model_version, run.status, run.row_count)},
        {"role": "challenger", **summary(theirs, side.get("version"), side.get("status"), side.get("row_count"))},
    ])  # fmt: skip


def promotions(engine: Engine, monitor: str | None = None) -> pd.DataFrame:
    """Promotions, newest first."""
    if not _has(engine, "model_promotions"):
        return pd.DataFrame(
            columns=["monitor", "from_version", "to_version", "promoted_at", "verdict"]
        )
    query = select(PROMOTIONS).order_by(PROMOTIONS.c.promoted_at.desc())
    if monitor is not None:
        query = query.where(PROMOTIONS.c.monitor == monitor)
    with engine.connect() as conn:
        rows = [{"monitor": r.monitor, "from_version": r.from_version, "to_version": r.to_version,
                 "promoted_at": r.promoted_at, "verdict": (r.evidence or {}).get("verdict")}
                for r in conn.execute(query)]  # fmt: skip
    return pd.DataFrame(
        rows, columns=["monitor", "from_version", "to_version", "promoted_at", "verdict"]
    )
