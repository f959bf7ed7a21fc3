"""What a run evaluates: the :class:`WindowEvaluator` seam and the real engine behind it.

The runner only needs ``evaluate(spec, window) -> WindowOutcome``; tests and
benchmarks plug in fakes, the service plugs in :class:`EngineEvaluator`, which
calls ``monitor.run.evaluate_window`` on the model version's stored baseline
and the Parquet log store. ``RAIWATCH_EVALUATOR=module:factory`` swaps in any
factory ``(store, settings) -> WindowEvaluator``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from jobs.windows import Window
from monitor.monitor_spec import MonitorSpec
from monitor.results import SignalResult
from monitor.settings import Settings
from monitor.store import Store


@dataclass(frozen=True)
class WindowOutcome:
    """The results of evaluating one window."""

    status: str
    results: list[SignalResult]
    row_count: int
    details: dict[str, Any] = field(default_factory=dict)


class WindowEvaluator(Protocol):
    """Anything that evaluates a monitor over a window."""

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        """Evaluate ``spec`` over ``window``; raise on unexpected failure."""
        ...


class EngineEvaluator:
    """Evaluate with ``monitor.run.evaluate_window`` on the store's baseline and log store.

    Parameters
    ----------
    store
        Where model versions and baselines live.
    settings
        Where the Parquet log store lives (``settings.home``).
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        run_mod = importlib.import_module("monitor.run")
        logstore_mod = importlib.import_module("monitor.logstore")
        model_version = self.store.get_model_version(spec.model, spec.version)
        document, sample = self.store.load_baseline(spec.model, spec.version)
        baseline = run_mod.Baseline.from_document(document, sample)
        log_store = logstore_mod.LogStore(self.settings.home)
        report = run_mod.evaluate_window(
            model_version, baseline, log_store, window.start, window.end, spec.signals
        )
        details = {k: v for k, v in report.to_dict().items() if k != "results"}
        return WindowOutcome(
            status=str(report.status),
            results=list(report.results),
            row_count=int(report.row_count),
            details=details,
        )


def load_evaluator(spec: str, store: Store, settings: Settings) -> WindowEvaluator:
    """Build the evaluator named ``module:factory`` (``factory(store, settings)``)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(
            f"evaluator {spec!r} must be 'module:factory', e.g. 'jobs.evaluation:EngineEvaluator'"
        )
    factory = getattr(importlib.import_module(module_name), attr)
    evaluator: WindowEvaluator = factory(store, settings)
    return evaluator
