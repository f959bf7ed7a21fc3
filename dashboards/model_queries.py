"""Read-only queries behind the model page: monitors, runs and their results."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import case, select
from sqlalchemy.engine import Engine

from dashboards.queries import MV, RESULTS, RUNS
from monitor.store.tables_runs import BaselineRow

BASELINES = BaselineRow.__table__

RUN_COLUMNS = [
    "id",
    "monitor",
    "window_start",
    "window_end",
    "status",
    "row_count",
    "duration_s",
    "executions",
    "details",
]
RESULT_COLUMNS = [
    "run_id",
    "window_start",
    "window_end",
    "signal",
    "feature",
    "metric",
    "value",
    "threshold",
    "status",
    "p_value",
    "reference_size",
    "current_size",
    "message",
    "details",
    "segment",  # None: the whole window; else the segment judged (``region=EU``)
]


def monitors_of(engine: Engine, name: str, version: str) -> list[str]:
    """Monitors that have runs for a model version, by name."""
    query = (
        select(RUNS.c.monitor)
        .where(RUNS.c.model_name == name, RUNS.c.model_version == version)
        .distinct()
        .order_by(RUNS.c.monitor)
    )
    with engine.connect() as conn:
        return [str(m) for m in conn.scalars(query)]


def latest_with_data(runs: pd.DataFrame) -> int:
    """Position in ``runs`` (newest first) of the newest run with data or an error;
    0 when every run is a window without rows."""
    evidence = [i for i, status in enumerate(runs["status"]) if status != "no_data"]
    return evidence[0] if evidence else 0


def runs_of(engine: Engine, monitor: str) -> pd.DataFrame:
    """Every run of a monitor, newest window first (see :data:`RUN_COLUMNS`)."""
    query = (
        select(*(RUNS.c[c] for c in RUN_COLUMNS))
        .where(RUNS.c.monitor == monitor)
        .order_by(RUNS.c.window_end.desc(), RUNS.c.id.desc())
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=RUN_COLUMNS)


def results_of(
    engine: Engine, monitor: str, signals: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Stored signal results of every run of a monitor, oldest window first.

    ``value`` is ``None`` (a gap in charts) for results of a window without rows.

    Parameters
    ----------
    monitor
        The monitor's name.
    signals
        Only these signals (all when ``None``).
    """
    # a window without rows stores its signals as no_data with value 0: a gap, not a zero
    shown = {"value": case((RESULTS.c.status == "no_data", None), else_=RESULTS.c.value)}
    cols = [
        shown[c].label(c) if c in shown else RESULTS.c[c]
        for c in RESULT_COLUMNS
        if c not in ("window_start", "window_end")
    ]
    query = (
        select(RUNS.c.window_start, RUNS.c.window_end, *cols)
        .join(RESULTS, RESULTS.c.run_id == RUNS.c.id)
        .where(RUNS.c.monitor == monitor)
        .order_by(RUNS.c.window_end, RESULTS.c.position)
    )
    if signals is not None:
        query = query.where(RESULTS.c.signal.in_(signals))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return expand_gaps(pd.DataFrame(rows, columns=RESULT_COLUMNS))


def expand_gaps(results: pd.DataFrame) -> pd.DataFrame:
    """Give every series of a signal its gap in windows without rows.

    An empty window stores one ``no_data`` placeholder per signal (metric ``rows``, no
    feature); drawn as such it is a stray series. Each placeholder becomes one ``None``
    point per (feature, metric) series the signal has in other windows, so every line
    breaks where the traffic stopped.
    """
    empty = (
        (results["status"] == "no_data") & (results["metric"] == "rows") & results["feature"].isna()
    )
    if not empty.any():
        return results
    real = results[~empty]
    series = real[["signal", "feature", "metric"]].drop_duplicates()
    placeholders = results[empty]
    expanded = placeholders.drop(columns=["feature", "metric"]).merge(
        series, on="signal", how="inner"
    )
    expanded = expanded.assign(value=None, threshold=None)
    kept = placeholders[~placeholders["signal"].isin(series["signal"])]
    out = pd.concat([real, expanded[RESULT_COLUMNS], kept], ignore_index=True)
    return out.sort_values("window_end", kind="stable").reset_index(drop=True)


def model_spec(engine: Engine, name: str, version: str) -> dict[str, Any] | None:
    """The registered spec of a model version, ``None`` when it is not registered."""
    query = select(MV.c.spec).where(MV.c.name == name, MV.c.version == version)
    with engine.connect() as conn:
        spec = conn.scalar(query)
    return dict(spec) if spec is not None else None


def baseline_document(engine: Engine, name: str, version: str) -> dict[str, Any] | None:
    """The active baseline's profile document (without its sample), if any."""
    query = (
        select(BASELINES.c.document)
        .join(MV, MV.c.id == BASELINES.c.model_version_id)
        .where(MV.c.name == name, MV.c.version == version, BASELINES.c.active.is_(True))
    )
    with engine.connect() as conn:
        doc = conn.scalar(query)
    return dict(doc) if doc is not None else None
