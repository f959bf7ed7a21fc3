"""Evaluate a window whose profile is built on Spark.

The window's rows stay on Spark: they are profiled partition by partition
(:class:`~monitor.engines.spark.SparkEngine`), and for the label-based signals
(performance, concept drift, CBPE and attribution drift) only the rows that have a
label come back, joined on Spark and projected to the columns those signals read.
The merged profile and those labelled rows then go through the same signal code
as a local run (:func:`~monitor.signals.evaluate.evaluate_profile` and
:func:`~monitor.signals.model_signals.model_signal_results`).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd

from monitor.baseline.reference import Baseline
from monitor.engines.spark import SparkEngine
from monitor.profiles.labelled_rows import LabelledRows
from monitor.signals.evaluate import WindowReport, evaluate_profile
from monitor.signals.model_signals import model_signal_results
from monitor.spec.signal_config import SignalConfig


def window_columns(baseline: Baseline, *, with_features: bool = False) -> list[str]:
    """The columns a window run reads: profiled, sampling key, passthrough and label-join columns."""
    mv = baseline.model_version
    plan = baseline.plan
    cols = [c.spec.name for c in plan.columns]
    cols += [c for c in (plan.key_column, *plan.key_columns, *plan.passthrough) if c]
    cols += [mv.id_column, mv.timestamp_column, mv.prediction, *mv.scores]
    if with_features:
        cols += [f.name for f in mv.features]
    return list(dict.fromkeys(cols))


def evaluate_on_spark(
    engine: SparkEngine,
    baseline: Baseline,
    source: Any,
    *,
    config: SignalConfig | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    time_column: str | None = None,
    labels: pd.DataFrame | None = None,
    detector_state: dict[str, Any] | None = None,
    model: Any = None,
) -> WindowReport:
    """:func:`~monitor.signals.evaluate.evaluate_window` with the rows on Spark.

    ``source`` is what :meth:`SparkEngine.read` accepts. With a ``time_column`` only
    rows with ``start <= time_column < end`` form the window; without one every row
    of ``source`` does (as ``--file`` runs do locally). ``report.details["engine"]``
    is ``"spark"``.
    """
    config = config or SignalConfig()
    t0 = time.perf_counter()
    mv = baseline.model_version
    keep_features = model is not None and config.attribution_drift.enabled
    window: dict[str, Any] = (
        {"start": start, "end": end, "time_column": time_column} if time_column else {}
    )
    profile = engine.profile(
        source, baseline.window_plan(), columns=window_columns(baseline), what="window", **window
    )
    results = evaluate_profile(baseline, profile, config)
    report = WindowReport(mv.name, mv.version, start, end, profile.row_count, results, 0.0, profile)
    report.details["engine"] = engine.name
    wants_labels = (
        config.performance.enabled
        or config.concept_drift.enabled
        or config.attribution_drift.enabled
    )
    if not profile.row_count:
        report.detector_state = detector_state
        report.duration_s = time.perf_counter() - t0
        return report
    labelled = None
    joiner = None
    if labels is not None and wants_labels:
        joiner = LabelledRows(mv, labels, keep_features=keep_features)
        ids = joiner.labels.index.to_numpy()
        rows = engine.labelled_frame(source, mv.id_column, ids, joiner.columns, **window)
        joiner(rows)
        joiner.rows_seen = profile.row_count  # every window row was seen, on Spark
        labelled = joiner.frame()
    extra = model_signal_results(
        baseline, profile, labelled, config, detector_state=detector_state, model=model
    )
    report.results += extra.results
    report.detector_state = extra.detector_state
    report.details.update(extra.details)
    if joiner is not None:
        report.details.update(joiner.coverage)
    report.duration_s = time.perf_counter() - t0
    return report


__all__ = ["evaluate_on_spark", "window_columns"]
