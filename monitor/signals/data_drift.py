"""Data drift: each monitored feature of the window against the baseline.

The test, the effect size and their defaults are in
:mod:`monitor.signals.column_drift`; the signal's share of the monitor's
false-alarm budget is corrected across the features (Holm by default), so
adding features does not raise the page rate.
"""

from __future__ import annotations

from monitor.errors import SchemaError
from monitor.signals.base import SignalContext
from monitor.signals.column_drift import DriftSettings, column_results
from monitor.signals.results import SignalResult
from monitor.spec.model_version import FeatureSpec

Settings = DriftSettings


def select_columns(specs: list[FeatureSpec], names: tuple[str, ...] | None, what: str) -> list[FeatureSpec]:
    """``specs`` restricted to ``names`` (all when ``None``); unknown names are an error."""
    if names is None:
        return specs
    known = {s.name: s for s in specs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SchemaError(f"{what}: unknown column(s) {unknown}; known: {sorted(known)}")
    return [known[n] for n in names]


def evaluate(context: SignalContext, settings: DriftSettings) -> list[SignalResult]:
    mv = context.model_version
    specs = select_columns(list(mv.monitored_features), settings.features, "data_drift.features")
    return column_results("data_drift", specs, context, settings)
