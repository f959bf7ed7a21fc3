"""Labels arrive late: re-run the windows whose requests just got their ground truth.

When labels are ingested, every stored run of the model version whose window
contains one of the labelled requests is evaluated again (runs are idempotent:
the run keeps its id and its results are replaced), together with the later
runs of the same monitor, because the change detectors' error stream continues
from window to window. Each run records its label coverage, so the dashboard
shows how complete the performance figures are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from jobs.evaluation import EngineEvaluator
from jobs.runner import MonitorRunner
from jobs.windows import Window
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.spec.monitor import MonitorSpec
from monitor.spec.settings import Settings
from monitor.store import Store
from monitor.store.base import as_utc

log = logging.getLogger("raiwatch.relabel")


def labelled_timestamps(
    logs: LogStore, mv: ModelVersion, request_ids: Iterable[str]
) -> list[datetime]:
    """Log timestamps of the given request ids (reads only two columns)."""
    wanted = pa.array(sorted({str(i) for i in request_ids}), pa.string())
    if len(wanted) == 0:
        return []
    found: list[datetime] = []
    for batch in logs.scan(mv, columns=[mv.id_column, mv.timestamp_column]):
        hit = pc.is_in(batch.column(0), value_set=wanted)
        found += batch.column(1).filter(hit).to_pylist()
    return [as_utc(t) for t in found]


def rerun_for_labels(
    store: Store,
    settings: Settings,
    mv: ModelVersion,
    request_ids: Iterable[str],
    *,
    notify: bool = True,
    runner: MonitorRunner | None = None,
) -> list[int]:
    """Re-run the stored windows touched by newly labelled requests; returns run ids.

    The CLI (``raiwatch labels ingest``) and the HTTP API (``POST .../labels``)
    both call this; ``serve`` passes its own runner (and evaluator).
    """
    stamps = sorted(labelled_timestamps(settings.log_store(), mv, request_ids))
    if not stamps:
        return []
    if runner is None:
        runner = MonitorRunner(store, EngineEvaluator(store, settings), dashboard_url=settings.dashboard_url)
    rerun: list[int] = []
    for monitor in store.list_monitors():
        if (monitor.model_name, monitor.model_version) != (mv.name, mv.version):
            continue
        runs = sorted(
            store.list_runs(monitor=monitor.name, limit=100_000, since=stamps[0]),
            key=lambda r: r.window_start,
        )
        first = next(
            (
                i
                for i, r in enumerate(runs)
                if any(r.window_start <= t < r.window_end for t in stamps)
            ),
            None,
        )
        if first is None:
            continue
        spec = MonitorSpec.from_stored(monitor.spec)
        for run in runs[first:]:  # the touched window and the later ones (detector stream)
            rerun.append(
                runner.run_window(spec, Window(run.window_start, run.window_end), notify=notify)
            )
        log.info("monitor %s: re-ran %d window(s) for late labels", monitor.name, len(runs) - first)
    return rerun
