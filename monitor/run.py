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

from monitor.baseline import Baseline
from monitor.drift import dataset_drift_result, drift_results
from monitor.errors import SchemaError
from monitor.profile_builder import DatasetProfile, build_profile
from monitor.quality import quality_results
from monitor.results import SignalResult, worst_status
from monitor.schema import FeatureSpec
from monitor.signal_config import SignalConfig


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
) -> WindowReport:
    """Profile ``batches`` (the window's rows) and evaluate every signal."""
    config = config or SignalConfig()
    t0 = time.perf_counter()
    profile = build_profile(batches, baseline.window_plan(), threads=threads, what="window", on_batch=on_batch)
    results = evaluate_profile(baseline, profile, config)
    mv = baseline.model_version
    return WindowReport(mv.name, mv.version, start, end, profile.row_count, results, time.perf_counter() - t0, profile)
