"""Evaluate a window whose profile is built on Spark.

The window's rows stay on Spark: they are profiled partition by partition
(:class:`~monitor.engines.spark.SparkEngine`), and for the label-based signals
(performance, concept drift, CBPE and attribution drift) only the rows that have a
label come back, joined on Spark and projected to the columns those signals read.
The merged profile and those labelled rows then go through the same signal code
as a local run (:func:`~monitor.signals.evaluate.window_report`).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from monitor.baseline.reference import Baseline
from monitor.engines.spark import SparkEngine
from monitor.profiles.labelled_rows import LabelledRows
from monitor.signals.evaluate import WindowReport, label_needs, window_report
from monitor.spec.signal_config import SignalConfig
from monitor.spec.window import Window


def window_columns(baseline: Baseline, *, with_features: bool = False) -> list[str]:
    """The columns a window run reads: profiled, sampling key, passthrough and label-join columns."""
    mv = baseline.model_version
    plan = baseline.plan
    cols = [c.spec.name for c in plan.columns]
    cols += [c for c in (plan.key_column, *plan.key_columns, *plan.passthrough) if c]
    cols += [c for c in (mv.id_column, mv.timestamp_column, mv.prediction, *mv.scores) if c is not None]
    if with_features:
        cols += [f.name for f in mv.features]
    return list(dict.fromkeys(cols))


def evaluate_on_spark(
    engine: SparkEngine,
    baseline: Baseline,
    source: Any,
    *,
    config: SignalConfig | None = None,
    window: Window | None = None,
    time_column: str | None = None,
    labels: pd.DataFrame | None = None,
    detector_state: dict[str, Any] | None = None,
    model: Any = None,
    carry: dict[str, Any] | None = None,
) -> WindowReport:
    """:func:`~monitor.signals.evaluate.evaluate_window` with the rows on Spark.

    ``source`` is what :meth:`SparkEngine.read` accepts. With a ``time_column`` (and a
    ``window``) only rows with ``start <= time_column < end`` form the window; without
    one every row of ``source`` does (as ``--file`` runs do locally).
    ``report.details["engine"]`` is ``"spark"``.
    """
    config = config or SignalConfig()
    t0 = time.perf_counter()
    mv = baseline.model_version
    wants_labels, keep_features = label_needs(config, model)
    span: dict[str, Any] = (
        {"start": window.start, "end": window.end, "time_column": time_column}
        if time_column and window is not None
        else {}
    )
    profile = engine.profile(
        source, baseline.window_plan(), columns=window_columns(baseline), what="window", **span
    )
    joiner = None
    if labels is not None and wants_labels and profile.row_count:
        joiner = LabelledRows(mv, labels, keep_features=keep_features)
        ids = joiner.labels.index.to_numpy()
        rows = engine.labelled_frame(source, mv.id_column, ids, joiner.columns, **span)
        joiner(rows)
        joiner.rows_seen = profile.row_count  # every window row was seen, on Spark
    report = window_report(
        baseline, profile, config, window=window, joiner=joiner, detector_state=detector_state,
        model=model, started=t0, carry=carry,
    )  # fmt: skip
    report.details["engine"] = engine.name
    return report


__all__ = ["evaluate_on_spark", "window_columns"]
