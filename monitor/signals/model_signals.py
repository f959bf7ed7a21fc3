"""Signals about the model itself: performance, concept drift, estimates, joint drift.

They need more than the window's feature profile: labels joined by request id
(:class:`~monitor.profiles.labelled_rows.LabelledRows`), the baseline's model parts
(:mod:`monitor.baseline.model_parts`), the change detectors' state carried over from
the previous window, and — for attribution drift — the real model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitor.baseline.model_input import to_model_input
from monitor.baseline.model_parts import classes_of, label_text, scores_matrix, target_for_model
from monitor.baseline.reference import Baseline
from monitor.errors import RaiwatchError
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.profiles.dataset import DatasetProfile
from monitor.signals.concept_drift import (
    concept_drift_signal_results,
    default_detectors,
    run_detectors,
)
from monitor.signals.estimated_performance import CBPE, estimated_performance_signal_results
from monitor.signals.multivariate_drift import (
    DomainClassifierDrift,
    PCAReconstructionDrift,
    multivariate_signal_results,
)
from monitor.signals.performance import (
    BaselinePerformance,
    WindowPerformance,
    performance_signal_results,
    window_performance,
)
from monitor.signals.results import SignalResult
from monitor.spec.signal_config import SignalConfig


@dataclass
class ModelSignalOutput:
    results: list[SignalResult]
    detector_state: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _part(baseline: Baseline, name: str) -> tuple[dict[str, Any] | None, str | None]:
    parts = baseline.performance or {}
    part = parts.get(name)
    if part is None:
        return None, "the baseline was built before model parts existed; rebuild it with `raiwatch baseline create`"
    if "error" in part:
        return None, str(part["error"])
    return part, None


def _no_data(signal: str, metric: str, why: str, n: int | None = None) -> SignalResult:
    return SignalResult(signal, None, metric, None, None, "no_data", current_size=n, message=why)


def _errors(mv_task: str, labelled: pd.DataFrame, prediction: str) -> np.ndarray:
    if mv_task == "regression":
        y = pd.to_numeric(labelled[LABEL_COLUMN], errors="coerce")
        p = pd.to_numeric(labelled[prediction], errors="coerce")
        return np.abs((y - p).to_numpy(dtype=float))
    y = labelled[LABEL_COLUMN].map(label_text)
    p = labelled[prediction].map(label_text)
    return (y != p).to_numpy(dtype=float)


def model_signal_results(
    baseline: Baseline,
    window: DatasetProfile,
    labelled: pd.DataFrame | None,
    config: SignalConfig,
    *,
    detector_state: dict[str, Any] | None = None,
    model: Any = None,
) -> ModelSignalOutput:
    """Performance, concept drift, estimated performance, multivariate and attribution drift."""
    mv = baseline.model_version
    out = ModelSignalOutput([], detector_state)
    n_lab = 0 if labelled is None else len(labelled)
    wp: WindowPerformance | None = None
    no_labels = "no labels have arrived for this window yet" if labelled is not None else "no label source was given for this run"
    if config.performance.enabled:
        part, why = _part(baseline, "performance")
        if labelled is not None and n_lab >= config.performance.min_labels:
            try:
                wp = window_performance(mv.task, _labels(mv.task, labelled), _preds(mv.task, labelled, mv.prediction), scores_matrix(mv, labelled), classes=classes_of(mv))
                base = BaselinePerformance.from_dict(part) if part is not None else None
                res = performance_signal_results(wp, base, max_drop=config.performance.max_drop, calibration=config.performance.calibration)
                out.results += res if part is not None else [_with_message(r, why) for r in res]
            except (RaiwatchError, ValueError) as err:
                out.results.append(SignalResult("performance", None, "labels", None, None, "error", current_size=n_lab, message=str(err)))
        else:
            why_n = no_labels if n_lab == 0 else f"only {n_lab} labelled rows; performance needs at least {config.performance.min_labels}"
            out.results.append(_no_data("performance", "labelled_rows", why_n, n_lab))
    if config.concept_drift.enabled:
        names = tuple(config.concept_drift.detectors or default_detectors(mv.task))
        if labelled is not None and n_lab:
            errors = _errors(mv.task, labelled, mv.prediction)
            keep = ~np.isnan(errors)
            ts = pd.to_datetime(labelled[mv.timestamp_column], utc=True).to_numpy()[keep] if mv.timestamp_column in labelled else None
            try:
                events, out.detector_state = run_detectors(errors[keep], ts, detector_state, detectors=names, seed=baseline.plan.seed)
                out.results += concept_drift_signal_results(events, int(keep.sum()), names)
            except (RaiwatchError, ValueError) as err:
                out.results.append(SignalResult("concept_drift", None, "detectors", None, None, "error", current_size=n_lab, message=f"{err}; the detectors restart from this window on"))
                # A state that cannot be continued (another version, a gap going backwards)
                # must not poison every later window: start the stream afresh next time.
                out.detector_state = None
        else:
            out.results += [_no_data("concept_drift", d, no_labels, 0) for d in names]
    if config.estimated_performance.enabled and mv.task != "regression":
        out.results += _estimated(baseline, window, config, wp)
    if config.multivariate_drift.enabled:
        out.results += _multivariate(baseline, window, config)
    if config.attribution_drift.enabled and mv.model_uri:
        out.results += _attribution(baseline, labelled, config, model)
    out.details = {"labelled_rows": n_lab}
    return out


def _labels(task: str, labelled: pd.DataFrame) -> pd.Series:
    return labelled[LABEL_COLUMN] if task == "regression" else labelled[LABEL_COLUMN].map(label_text)


def _preds(task: str, labelled: pd.DataFrame, prediction: str) -> pd.Series:
    return labelled[prediction] if task == "regression" else labelled[prediction].map(label_text)


def _with_message(r: SignalResult, why: str | None) -> SignalResult:
    return SignalResult(**{**r.__dict__, "message": why or r.message})


def _estimated(baseline: Baseline, window: DatasetProfile, config: SignalConfig, wp: WindowPerformance | None) -> list[SignalResult]:
    mv = baseline.model_version
    part, why = _part(baseline, "cbpe")
    if part is None:
        return [_no_data("estimated_performance", m, why or "no CBPE calibration") for m in ("accuracy", "roc_auc", "f1")]
    sample = window.reservoir.to_pandas()
    scores = scores_matrix(mv, sample)
    if scores is None or len(sample) == 0:
        return [_no_data("estimated_performance", m, "the window has no scored rows") for m in ("accuracy", "roc_auc", "f1")]
    try:
        estimates = CBPE.from_dict(part["state"]).estimate(scores, sample[mv.prediction].map(label_text))
    except (RaiwatchError, ValueError) as err:
        return [SignalResult("estimated_performance", None, "cbpe", None, None, "error", message=str(err))]
    results = estimated_performance_signal_results(estimates, part["reference"], n=len(sample), max_drop=config.estimated_performance.max_drop)
    if wp is None:
        return results
    # Labels have arrived: store the realised value next to the estimate.
    return [SignalResult(**{**r.__dict__, "details": {**r.details, "realised": _finite(wp.metrics.get(r.metric))}}) for r in results]


def _finite(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _multivariate(baseline: Baseline, window: DatasetProfile, config: SignalConfig) -> list[SignalResult]:
    mv = baseline.model_version
    numeric = [f.name for f in mv.monitored_features if f.type in ("numeric", "datetime")]
    categorical = [f.name for f in mv.monitored_features if f.type in ("categorical", "boolean")]
    ref, cur = baseline.profile.reservoir.to_pandas(), window.reservoir.to_pandas()
    mc = config.multivariate_drift
    if len(numeric) < 2 and "domain_classifier" not in mc.methods:
        return []  # joint drift of one numeric column is its marginal drift
    if len(cur) < mc.min_rows or len(ref) < mc.min_rows:
        which, n = ("window", len(cur)) if len(cur) < mc.min_rows else ("baseline", len(ref))
        why = f"the {which} has {n} sampled rows; multivariate drift needs at least {mc.min_rows}"
        return [_no_data("multivariate_drift", m, why, len(cur)) for m in mc.methods]
    detectors: list[DomainClassifierDrift | PCAReconstructionDrift] = []
    results: list[SignalResult] = []
    seed = baseline.plan.seed
    try:
        if "pca" in mc.methods:
            detectors.append(PCAReconstructionDrift(seed=seed).fit(ref[numeric]))
        if "domain_classifier" in mc.methods:
            detectors.append(DomainClassifierDrift(seed=seed).fit(ref[numeric + categorical], categorical=tuple(categorical)))
    except (RaiwatchError, ValueError) as err:
        results.append(SignalResult("multivariate_drift", None, "fit", None, None, "error", message=str(err)))
    return results + multivariate_signal_results(cur, detectors)


def _attribution(baseline: Baseline, labelled: pd.DataFrame | None, config: SignalConfig, model: Any) -> list[SignalResult]:
    from monitor.signals.attribution_drift import attribution_signal_results, importance_on_window

    mv = baseline.model_version
    part, why = _part(baseline, "attribution")
    ac = config.attribution_drift
    if part is None:
        return [_no_data("attribution_drift", "ndcg", why or "no baseline importance")]
    if model is None:
        return [_no_data("attribution_drift", "ndcg", f"the model at {mv.model_uri!r} was not loaded for this run")]
    n = 0 if labelled is None else len(labelled)
    if labelled is None or n < ac.min_labels:
        return [_no_data("attribution_drift", "ndcg", f"{n} labelled rows; attribution drift needs at least {ac.min_labels}", n)]
    try:
        window_imp = importance_on_window(model, to_model_input(mv, labelled), target_for_model(labelled[LABEL_COLUMN], model), mv.task, baseline.plan.seed)
    except Exception as err:  # the user's model may raise anything: an explicit error result
        return [SignalResult("attribution_drift", None, "ndcg", None, ac.threshold, "error", message=f"permutation importance failed: {err}")]
    return attribution_signal_results(part["importance"], window_imp, k=ac.k, threshold=ac.threshold)
