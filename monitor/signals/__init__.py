"""The signal registry: every signal a monitor can run, in evaluation order.

``SIGNALS`` is the one place a signal is declared. The ``signals:`` block of a
monitor (:class:`monitor.spec.signal_config.SignalConfig`), the empty-window
results, the list of signal names, the false-alarm budget split and the
dashboard's panels all derive from it::

    >>> list(SIGNALS)[:4]
    ['data_drift', 'dataset_drift', 'prediction_drift', 'data_quality']
    >>> SIGNALS["dataset_drift"].budget_weight
    0.0
"""

from __future__ import annotations

from monitor.signals import (
    attribution_drift,
    challenger,
    concept_drift,
    data_drift,
    data_quality,
    dataset_drift,
    estimated_performance,
    fairness,
    multivariate_drift,
    performance,
    prediction_drift,
    traffic,
)
from monitor.signals.base import (
    SignalContext,
    SignalEntry,
    SignalSettings,
    signals_on_panel,
    split_budget,
)
from monitor.signals.results import STATUSES, SignalResult, Status, worst_status

SIGNALS: dict[str, SignalEntry] = {
    "data_drift": SignalEntry(
        name="data_drift", title="Data drift", settings=data_drift.Settings, evaluate=data_drift.evaluate,
        budget_weight=2.0, panel="drift", description="each feature's distribution, window vs baseline",
    ),
    "dataset_drift": SignalEntry(
        name="dataset_drift", title="Dataset drift", settings=dataset_drift.Settings,
        evaluate=dataset_drift.evaluate, budget_weight=0.0,
        description="share of features in alert (reads data drift; no budget of its own)",
    ),
    "prediction_drift": SignalEntry(
        name="prediction_drift", title="Prediction drift", settings=prediction_drift.Settings,
        evaluate=prediction_drift.evaluate, applies=prediction_drift.applies, panel="drift",
        description="prediction and score columns, window vs baseline",
    ),
    "data_quality": SignalEntry(
        name="data_quality", title="Data quality", settings=data_quality.Settings,
        evaluate=data_quality.evaluate, panel="quality",
        description="null, type-error, out-of-range and unseen-category rates",
    ),
    "performance": SignalEntry(
        name="performance", title="Performance (labels)", settings=performance.PerformanceSettings,
        evaluate=performance.evaluate, applies=lambda mv: mv.prediction is not None,
        needs="labels", panel="performance",
        description="realised metrics on labelled rows: a one-sided test of the drop against the baseline",
    ),
    "estimated_performance": SignalEntry(
        name="estimated_performance", title="Estimated performance (no labels)",
        settings=estimated_performance.EstimatedPerformanceSettings, evaluate=estimated_performance.evaluate,
        applies=lambda mv: mv.task != "regression" and bool(mv.scores) and mv.prediction is not None,
        needs="scores", panel="performance",
        description="performance estimated from calibrated scores before labels arrive",
    ),
    "concept_drift": SignalEntry(
        name="concept_drift", title="Concept drift", settings=concept_drift.ConceptDriftSettings,
        evaluate=concept_drift.evaluate, applies=lambda mv: mv.prediction is not None,
        needs="labels", panel="changes", per_segment=False,
        description="budget-calibrated CUSUM on the time-ordered error stream, state carried across windows",
    ),
    "multivariate_drift": SignalEntry(
        name="multivariate_drift", title="Multivariate drift", settings=multivariate_drift.MultivariateDriftSettings,
        evaluate=multivariate_drift.evaluate,
        applies=lambda mv: sum(f.type in ("numeric", "datetime") for f in mv.monitored_features) >= 2,
        description="PCA reconstruction error of the window vs held-out baseline rows (Mann-Whitney)",
    ),
    "attribution_drift": SignalEntry(
        name="attribution_drift", title="Feature-attribution drift", settings=attribution_drift.AttributionDriftSettings,
        evaluate=attribution_drift.evaluate, applies=lambda mv: mv.model_uri is not None,
        needs="model", per_segment=False,
        description="the real model's permutation importance, window vs baseline",
    ),
    "fairness": SignalEntry(
        name="fairness", title="Fairness (labels)", settings=fairness.FairnessSettings,
        evaluate=fairness.evaluate, applies=fairness.applies, needs="labels", panel="performance",
        description="the RAI review's between-group disparities on labelled rows; pages when significantly above min_effect",
    ),
    "challenger": SignalEntry(
        name="challenger", title="Champion / challenger", settings=challenger.Settings,
        evaluate=challenger.evaluate, applies=lambda mv: mv.prediction is not None and mv.task != "regression",
        needs="labels", panel="performance", per_segment=False,
        description="the challenger version vs the champion on the same traffic: better, worse or undecided "
        "(sequential, anytime-valid); on only when the monitor declares 'challenger:'",
    ),
    "traffic": SignalEntry(
        name="traffic", title="No traffic", settings=traffic.TrafficSettings, evaluate=traffic.evaluate,
        budget_weight=0.0, judges_empty_windows=True,
        description="windows in a row without logged rows; pages after `windows` of them (default 3)",
    ),
}  # fmt: skip

SIGNAL_NAMES: tuple[str, ...] = tuple(SIGNALS)

__all__ = [
    "SIGNALS",
    "SIGNAL_NAMES",
    "STATUSES",
    "SignalContext",
    "SignalEntry",
    "SignalResult",
    "SignalSettings",
    "Status",
    "signals_on_panel",
    "split_budget",
    "worst_status",
]
