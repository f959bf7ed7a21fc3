"""A constant-time evaluator for the service benchmark (isolates the service's own cost).

``RAIWATCH_EVALUATOR=bench.service_fake_evaluator:factory``: a window whose end
minute is even breaches ``data_drift``, so alerts fire and resolve every minute
and every run produces a webhook.
"""

from __future__ import annotations

from typing import Any

from jobs.evaluation import WindowOutcome
from jobs.windows import Window
from monitor.signals.results import SignalResult
from monitor.spec.monitor import MonitorSpec


class AlternatingEvaluator:
    """Alert on even minutes, ok on odd ones."""

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        alert = window.end.minute % 2 == 0
        status = "alert" if alert else "ok"
        results = [
            SignalResult(signal="data_drift", feature="age", metric="wasserstein", value=0.3 if alert else 0.02, threshold=0.1, status=status),
            SignalResult(signal="data_quality", feature="age", metric="null_rate", value=0.0, threshold=0.05, status="ok"),
        ]
        return WindowOutcome(status=status, results=results, row_count=1000)


def factory(store: Any, settings: Any) -> AlternatingEvaluator:
    """Factory for ``RAIWATCH_EVALUATOR``."""
    return AlternatingEvaluator()
