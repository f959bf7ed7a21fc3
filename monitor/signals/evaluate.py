"""Evaluate a window against a baseline: profile it, then run every signal.

``evaluate_window`` is deterministic: the same baseline, configuration and
window rows give the same results, whatever the batch boundaries.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from monitor.baseline.reference import Baseline
from monitor.errors import SchemaError
from monitor.profiles.dataset import DatasetProfile, build_profile
from monitor.profiles.labelled_rows import LabelledRows
from monitor.signals.data_quality import quality_results
from monitor.signals.drift import dataset_drift_result, drift_results
from monitor.signals.model_signals import model_signal_results
from monitor.signals.results import SignalResult, worst_status
from monitor.spec.model_version import FeatureSpec
from monitor.spec.signal_config import SignalConfig


@dataclass
class WindowReport:
    """Everything one evaluation of one window produced."""

    model: str
    version: str
    start: dt.datetime | None
    end: dt.datetime | None
    row_count: int
    results: list[SignalResult]
    duration_s: float
    profile: DatasetProfile | None = field(default=None, repr=False)
    detector_state: dict[str, Any] | None = field(default=None, repr=False)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.row_count == 0:
            return "no_data"
        return worst_status([r.status for r in self.results])

    def alerts(self) -> list[SignalResult]:
        return [r for r in self.results if r.status == "alert"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "window_start": self.start.isoformat() if self.start else None,
            "window_end": self.end.isoformat() if self.end else None,
            "row_count": self.row_count,
            "status": self.status,
            "duration_s": round(self.duration_s, 4),
            "details": self.details,
            "results": [r.to_dict() for r in self.results],
        }


def _select(specs: list[FeatureSpec], names: tuple[str, ...] | None, what: str) -> list[FeatureSpec]:
    if names is None:
        return specs
    known = {s.name: s for s in specs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SchemaError(f"{what}: unknown column(s) {unknown}; known: {sorted(known)}")
    return [known[n] for n in names]


def evaluate_profile(baseline: Baseline, window: DatasetProfile, config: SignalConfig) -> list[SignalResult]:
    """Every configured signal for an already-profiled window."""
    mv = baseline.model_version
    features = list(mv.monitored_features)
    results: list[SignalResult] = []
    if window.row_count == 0:
        return [
            SignalResult(s, None, "rows", 0.0, None, "no_data", current_size=0, message="the window has no rows")
            for s, on in (
                ("data_drift", config.data_drift.enabled),
                ("dataset_drift", config.data_drift.enabled and config.dataset_drift.enabled),
                ("prediction_drift", config.prediction_drift.enabled),
                ("data_quality", config.data_quality.enabled),
            )
            if on
        ]
    if config.data_drift.enabled:
        specs = _select(features, config.data_drift.features, "data_drift.features")
        feature_results = drift_results("data_drift", specs, baseline, window, config.data_drift)
        results += feature_results
        if config.dataset_drift.enabled:
            results.append(dataset_drift_result(feature_results, config.dataset_drift))
    if config.prediction_drift.enabled:
        outputs = _select(mv.output_columns(), config.prediction_drift.features, "prediction_drift.features")
        results += drift_results("prediction_drift", outputs, baseline, window, config.prediction_drift)
    if config.data_quality.enabled:
        specs = _select(features, config.data_quality.features, "data_quality.features")
        results += quality_results(specs, baseline.profile, window, config.data_quality)
    return results


def evaluate_window(
    baseline: Baseline,
    batches: Iterable[Any],
    *,
    config: SignalConfig | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    threads: int = 2,
    on_batch: Callable[[int], None] | None = None,
    labels: pd.DataFrame | None = None,
    detector_state: dict[str, Any] | None = None,
    model: Any = None,
) -> WindowReport:
    """Profile ``batches`` (the window's rows) and evaluate every signal.

    Parameters
    ----------
    labels
        Ground truth (``request_id``, ``label``) from the log store; rows of the window
        with a label feed performance, the change detectors and attribution drift.
        ``None`` means no label source (those signals report ``no_data``).
    detector_state
        The change detectors' state after the previous window (``report.detector_state``
        of that run), so the error stream continues across windows and restarts.
    model
        The real model, for attribution drift (loaded by the caller from ``model_uri``).
    """
    config = config or SignalConfig()
    t0 = time.perf_counter()
    mv = baseline.model_version
    wants_labels = config.performance.enabled or config.concept_drift.enabled or config.attribution_drift.enabled
    joiner = (
        LabelledRows(mv, labels, keep_features=model is not None and config.attribution_drift.enabled)
        if labels is not None and wants_labels
        else None
    )
    profile = build_profile(batches, baseline.window_plan(), threads=threads, what="window", on_batch=on_batch, tap=joiner)
    results = evaluate_profile(baseline, profile, config)
    report = WindowReport(mv.name, mv.version, start, end, profile.row_count, results, 0.0, profile)
    if profile.row_count:
        labelled = joiner.frame() if joiner is not None else None
        extra = model_signal_results(baseline, profile, labelled, config, detector_state=detector_state, model=model)
        report.results += extra.results
        report.detector_state = extra.detector_state
        report.details.update(extra.details)
        if joiner is not None:
            report.details.update(joiner.coverage)
    else:
        report.detector_state = detector_state
    report.duration_s = time.perf_counter() - t0
    return report
