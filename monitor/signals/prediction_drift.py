"""Prediction drift: the model's prediction and score columns against the baseline.

The same per-column tests as data drift (:mod:`monitor.signals.column_drift`),
with its own share of the budget. A model version logged without a prediction
column has no prediction drift (the signal does not apply).
"""

from __future__ import annotations

from typing import Any

from monitor.signals.base import SignalContext
from monitor.signals.column_drift import DriftSettings, column_results
from monitor.signals.data_drift import select_columns
from monitor.signals.results import SignalResult

Settings = DriftSettings


def applies(model_version: Any) -> bool:
    return bool(model_version.output_columns())


def evaluate(context: SignalContext, settings: DriftSettings) -> list[SignalResult]:
    outputs = select_columns(context.model_version.output_columns(), settings.features, "prediction_drift.features")
    return column_results("prediction_drift", outputs, context, settings)
